"""The Jacobian of a model's vector field and its eigenvalues (jit-/vmap-able)."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float

from .._custom_types import ScalarLike, State
from ..models._base import AbstractNeuronModel


def jacobian(
    model: AbstractNeuronModel, y: State, current: ScalarLike
) -> Float[Array, "n_state n_state"]:
    r"""$J_{ij} = \partial f_i / \partial y_j$ of `model.vector_field` at state `y` and a constant
    `current`, by forward-mode AD (`jax.jacfwd`). Units: 1/ms scaled by the state units."""
    return jax.jacfwd(lambda z: model.vector_field(0.0, z, current))(jnp.asarray(y))


def eigenvalues(
    model: AbstractNeuronModel, y: State, current: ScalarLike
) -> Complex[Array, " n_state"]:
    """Eigenvalues of `jacobian(model, y, current)`, sorted by decreasing real part (the
    leading eigenvalue first; a complex pair with positive imaginary part first)."""
    lam = jnp.linalg.eigvals(jacobian(model, y, current))
    # lexsort: primary key −Re (descending real part), secondary −Im (positive partner first).
    order = jnp.lexsort((-jnp.imag(lam), -jnp.real(lam)))
    return lam[order]
