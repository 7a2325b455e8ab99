"""jaxtyping aliases shared across scjax (one place, as in diffrax/_custom_types.py)."""

from typing import TypeAlias

from jaxtyping import Array, ArrayLike, Bool, Float, PRNGKeyArray

#: A physical parameter: a Python float (weakly typed, so the run's dtype follows the current)
#: or a 0-d array (a tracer under `jax.grad` / `jax.vmap`).
Param: TypeAlias = float | Float[ArrayLike, ""]
Scalar: TypeAlias = Float[Array, ""]
ScalarLike: TypeAlias = float | Float[ArrayLike, ""]
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
