"""jaxtyping aliases shared across scjax (one place, as in diffrax/_custom_types.py)."""

from typing import TYPE_CHECKING, TypeAlias

import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, PRNGKeyArray

# A static type checker reads `Float[ArrayLike, ""]` as the whole `ArrayLike` union (bool,
# complex, ...), whose arithmetic it cannot resolve: it gets narrower unions, as in
# diffrax/_custom_types.py. A parameter is a float or a JAX array (NumPy scalars are floats);
# a time or current also takes diffrax's `RealScalarLike` (NumPy arrays included), which the
# solvers hand to `vector_field`. At run time the jaxtyping aliases stay.
if TYPE_CHECKING:
    #: A physical parameter: a Python float (weakly typed, so the run's dtype follows the
    #: current) or a 0-d array (a tracer under `jax.grad` / `jax.vmap`).
    Param: TypeAlias = float | Array
    ScalarLike: TypeAlias = float | Array | np.ndarray
else:
    Param: TypeAlias = float | Float[ArrayLike, ""]
    ScalarLike: TypeAlias = float | Float[ArrayLike, ""]
Scalar: TypeAlias = Float[Array, ""]
State: TypeAlias = Float[Array, " n_state"]
StateTrace: TypeAlias = Float[Array, "T+1 n_state"]
CurrentTrace: TypeAlias = Float[ArrayLike, " T"]
SpikeTrace: TypeAlias = Bool[Array, " T"]
Key: TypeAlias = PRNGKeyArray

__all__ = [
    "Array",
    "CurrentTrace",
    "Key",
    "Param",
    "Scalar",
    "ScalarLike",
    "SpikeTrace",
    "State",
    "StateTrace",
]
