"""Input checks at the boundary: every violation is a `ValueError` naming the argument.

Concrete values are checked eagerly, before anything is traced or integrated. Traced values
(under `jax.vmap`, `jax.grad`, `jax.jit`) cannot be inspected at trace time; the callers check
those at run time with `eqx.error_if` instead.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

try:
    from jax.core import Tracer as _Tracer
except ImportError:  # moved in newer JAX releases
    from jax._src.core import Tracer as _Tracer


def is_concrete(x) -> bool:
    """True when `x` holds a value (not a tracer), so it can be checked now."""
    return not isinstance(x, _Tracer)


def check_finite_scalar(name: str, value, *, positive: bool = False, nonnegative: bool = False):
    """Reject a non-scalar, non-finite, or out-of-range concrete scalar parameter."""
    if not is_concrete(value):
        return
    arr = np.asarray(value)
    if arr.shape != ():
        raise ValueError(f"{name} must be a scalar, got an array of shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    v = float(arr)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    if positive and not v > 0:
        raise ValueError(f"{name} must be positive, got {v}")
    if nonnegative and not v >= 0:
        raise ValueError(f"{name} must be >= 0, got {v}")


def check_finite_param(
    name: str, value, *, positive: bool = False, nonnegative: bool = False
) -> None:
    """A model or stimulus parameter: a finite real scalar, or a non-empty 1-D array `[B]` of
    finite values (a batch of neurons for `scjax.simulate_batch`), checked whatever its array
    type (Python float, NumPy or concrete JAX array); traced values are left to the loop."""
    if not is_concrete(value):
        return
    arr = np.asarray(value)
    if arr.ndim > 1 or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(f"{name} must be a real scalar or 1-D array [B], got {value!r}")
    if arr.ndim == 1 and arr.shape[0] == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and not np.all(arr > 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if nonnegative and not np.all(arr >= 0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")


#: 1/dt must be finite: below this (a subnormal step such as 5e-324) it overflows.
_SMALLEST_DT: float = 1.0 / float(np.finfo(np.float64).max)


def check_in_domain(name: str, value, domain) -> None:
    """Reject a concrete value (scalar or 1-D batch, any array type) outside `domain`
    (a `scjax.models.Domain`); every element of a batch is checked."""
    if not is_concrete(value):
        return
    arr = np.asarray(value, dtype=float)
    inside = domain.contains(arr)
    if np.all(inside):
        return
    units = f" ({domain.units})" if domain.units else ""
    if arr.ndim == 0:
        got = f"{float(arr)!r}"
    else:
        bad = int(np.argmax(~inside.reshape(-1)))
        got = f"{arr.tolist()} (element {bad} = {float(arr.reshape(-1)[bad])!r})"
    raise ValueError(f"{name} must be {domain.describe()}{units}, got {got}")


def check_dt(dt) -> None:
    """`dt` must be a positive finite scalar whose reciprocal is finite (a subnormal step such
    as 5e-324 would overflow every rate and step count computed from it)."""
    check_finite_scalar("dt", dt, positive=True)
    if is_concrete(dt) and not float(np.asarray(dt)) >= _SMALLEST_DT:
        raise ValueError(f"dt = {float(np.asarray(dt))!r} is too small: 1/dt overflows")


def check_sample_grid(n_steps: int, dt, t0=0.0) -> None:
    """The grid t0 + n·dt, n = 0..n_steps, must be finite and strictly increasing in float64:
    `dt` too small for the span (t0 + dt == t0) or a span that overflows is refused."""
    check_dt(dt)
    if not (is_concrete(dt) and is_concrete(t0)):
        return
    dt_f, t0_f = float(np.asarray(dt)), float(np.asarray(t0))
    t_end = t0_f + n_steps * dt_f
    if not math.isfinite(t_end):
        raise ValueError(f"dt = {dt_f!r}: the span t0 + {n_steps}·dt overflows")
    if max(abs(t0_f), abs(t_end)) + dt_f == max(abs(t0_f), abs(t_end)):
        raise ValueError(
            f"dt = {dt_f!r} is too small for the span [{t0_f!r}, {t_end!r}] ms: "
            "the sample times do not advance"
        )


def positive_at_run_time(name: str, value):
    """`value`, with a run-time `eqx.error_if` when it is traced (concrete values are checked
    eagerly with `check_finite_scalar(positive=True)`)."""
    if is_concrete(value):
        check_finite_scalar(name, value, positive=True)
        return value
    import equinox as eqx

    return eqx.error_if(
        value, ~(jnp.isfinite(value) & (value > 0)), f"{name} must be positive and finite"
    )


def as_current(current) -> jax.Array:
    """Check the current trace (non-empty, 1-D, real, finite) and return it as an array.

    Integer traces are promoted to the default float dtype; float32 and float64 are kept, so a
    float32 trace gives a float32 (throughput) run and a float64 trace a float64 (parity) run.
    """
    if is_concrete(current):
        arr = np.asarray(current)
        if arr.ndim != 1:
            raise ValueError(f"current must be a 1-D array, got shape {arr.shape}")
        if arr.shape[0] == 0:
            raise ValueError("current must be non-empty, got an array of length 0")
        if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(f"current must be a real float array, got dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            bad = int(np.argmax(~np.isfinite(arr)))
            raise ValueError(f"current must be finite, got {arr[bad]} at index {bad}")
        out = jnp.asarray(current)
    else:
        out = current
        if out.ndim != 1:
            raise ValueError(f"current must be a 1-D array, got shape {out.shape}")
        if out.shape[0] == 0:
            raise ValueError("current must be non-empty, got an array of length 0")
    if not jnp.issubdtype(out.dtype, jnp.floating):
        out = out.astype(jnp.result_type(float))
    return out
