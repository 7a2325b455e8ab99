"""The arguments every adaptive solve shares (in-process, SciPy, Julia), checked one way:
the save grid and the piecewise-constant current trace."""

import math

import jax
import jax.core  # explicit: a type checker does not see the submodule through `jax`
import jax.numpy as jnp
import numpy as np

from .._validation import check_finite_scalar

#: Largest save grid (samples) an adaptive solve accepts: past it the grid alone would not fit
#: in memory, and `(t1 − t0)/saveat` is almost surely a unit mistake.
MAX_SAMPLES: int = 2**31


def check_scalar(name: str, value, *, positive: bool = False) -> None:
    """`check_finite_scalar`, with a fast path for Python numbers (solves are called in
    benchmark loops, where NumPy conversions of six scalars are measurable)."""
    if type(value) in (float, int):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
        if positive and not value > 0:
            raise ValueError(f"{name} must be positive, got {value}")
        return
    check_finite_scalar(name, value, positive=positive)


def check_tolerances(rtol, atol) -> None:
    check_scalar("rtol", rtol, positive=True)
    check_scalar("atol", atol, positive=True)


def check_limits(max_spikes, max_steps) -> None:
    """The work bounds of an adaptive solve: `max_spikes` and `max_steps` positive ints."""
    for name, value in (("max_spikes", max_spikes), ("max_steps", max_steps)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def save_grid(t_span, saveat) -> tuple[float, float, np.ndarray]:
    """Check `t_span = (t0, t1)` and `saveat` and return (t0, t1, grid), the grid
    t0 + saveat·k for k = 0..n with n = (t1 − t0)/saveat a positive integer (to 1e-9)."""
    try:
        t0, t1 = (float(t) for t in t_span)
    except (TypeError, ValueError):
        raise ValueError(f"t_span must be a pair of floats (t0, t1), got {t_span!r}") from None
    check_scalar("t0", t0)
    check_scalar("t1", t1)
    check_scalar("saveat", saveat, positive=True)
    if not t1 > t0:
        raise ValueError(f"t_span must have t1 > t0, got {t_span!r}")
    n_float = (t1 - t0) / saveat
    if not n_float <= MAX_SAMPLES:
        raise ValueError(
            f"saveat = {saveat} gives (t1 - t0)/saveat = {n_float} samples, more than {MAX_SAMPLES}"
        )
    n = int(round(n_float))
    if abs(n_float - n) > 1e-9 * max(1.0, n_float):
        raise ValueError(f"(t1 - t0)/saveat must be an integer, got {n_float}")
    if n < 1:
        raise ValueError(f"saveat = {saveat} must not exceed the span t1 - t0 = {t1 - t0}")
    return t0, t1, t0 + float(saveat) * np.arange(n + 1, dtype=np.float64)


def piecewise_current(current, t0: float, current_dt):
    """The current as (trace, current_dt, jump times): sample k of `trace` holds over
    [t0 + k·current_dt, t0 + (k+1)·current_dt) and the last one to the end (a scalar is a
    1-sample trace). Jump times are where a concrete trace changes value (None when it never
    does), NumPy, so nothing is dispatched to the device before a compiled solve. A traced
    trace (a solve under the caller's jit/vmap) may jump at every sample boundary."""
    check_scalar("current_dt", current_dt, positive=True)
    current_dt = float(current_dt)
    if isinstance(current, jax.core.Tracer):
        trace = jnp.reshape(jnp.asarray(current, jnp.float64), (-1,))
        n = trace.shape[0]
        jump_ts = t0 + current_dt * np.arange(1, n, dtype=np.float64) if n > 1 else None
        return trace, current_dt, jump_ts
    try:
        arr = np.asarray(current, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"current must be a real scalar or 1-D trace, got {current!r}") from None
    if arr.ndim > 1 or arr.size == 0:
        raise ValueError(
            f"current must be a scalar or a non-empty 1-D trace, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("current must be finite")
    trace = arr.reshape(-1)
    change = np.nonzero(trace[1:] != trace[:-1])[0] + 1
    jump_ts = t0 + current_dt * change.astype(np.float64) if change.size else None
    return trace, current_dt, jump_ts


def fixed_step_span(current, dt, t0) -> tuple[np.ndarray, tuple[float, float]]:
    """`scjax.simulate`'s current convention for an adaptive backend's `simulate`: a
    non-empty 1-D trace, `current[n]` over [t0 + n·dt, t0 + (n+1)·dt); returns the trace and
    the span it covers."""
    check_scalar("dt", dt, positive=True)
    check_scalar("t0", t0)
    arr = np.asarray(current, np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"current must be a non-empty 1-D array, got shape {arr.shape}")
    t1 = float(t0) + arr.size * float(dt)
    if not math.isfinite(t1):
        raise ValueError(f"t0 + len(current)·dt must be finite, got {t1}")
    return arr, (float(t0), t1)
