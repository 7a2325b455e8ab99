"""Argument checks shared by the dynamical analyses (host-side, before anything is traced)."""

import jax.numpy as jnp
import numpy as np

from ..models._base import AbstractNeuronModel


def check_model(model) -> None:
    if not isinstance(model, AbstractNeuronModel):
        raise ValueError(f"model must be a scjax model, got {type(model).__name__}")


def check_bounds(model, bounds, *, n_dims: int | None = None) -> np.ndarray:
    """`bounds` is one `(low, high)` pair per state component; returns a float array [n, 2]."""
    n = model.n_state if n_dims is None else n_dims
    try:
        arr = np.asarray(bounds, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"bounds must be {n} (low, high) pairs of numbers, got {bounds!r}"
        ) from None
    if arr.size == 0:
        raise ValueError(f"bounds must be {n} (low, high) pairs, got an empty sequence")
    if arr.shape != (n, 2):
        raise ValueError(
            f"bounds must have shape ({n}, 2): one (low, high) pair per state "
            f"{model.state_names[:n]}, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"bounds must be finite, got {arr.tolist()}")
    if not np.all(arr[:, 1] > arr[:, 0]):
        raise ValueError(f"bounds must have low < high in every pair, got {arr.tolist()}")
    return arr


def check_currents(currents) -> np.ndarray:
    arr = np.asarray(currents, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"currents must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("currents must be finite")
    return arr


def float_dtype():
    """The default float dtype (float64 under `jax_enable_x64`)."""
    return jnp.result_type(float)


def newton_tolerance(dtype) -> float:
    # Newton converges quadratically: stopping when the step is below eps^0.6 leaves the
    # iterate at ~eps^1.2, i.e. machine precision (float64: step < 4e-10; float32: < 7e-5).
    return float(jnp.finfo(dtype).eps) ** 0.6
