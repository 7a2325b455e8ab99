"""Explicit alignment of measured samples with the simulated time grid.

`scjax.simulate` over a current of T samples returns T+1 states at t0 + k·dt, k = 0..T
(`y[0]` the initial state, `y[k+1]` the state after step k). A measured voltage of T samples
fits that grid in two ways one sample apart — sampled with the current (`v[i]` at t0 + i·dt,
the usual layout of a recording) or after each step (`v[i]` at t0 + (i+1)·dt) — and taking the
wrong one biases a fit: a one-step shift of the upstroke pulls g_Na of a Hodgkin–Huxley fit
by −1.2 % (g_Na, g_K, g_L fitted, 25 ms) or −5.0 % (g_Na alone, 10 ms,
`tests/test_fit_reliability.py`) where the right alignment recovers it to 1e-15. So a trace
shorter than T+1 must carry its time axis: a `Recording(t, v)`.
"""

import equinox as eqx
import numpy as np
from jaxtyping import Float

#: Largest distance of a recorded time from its grid point, as a fraction of dt (rounding in a
#: text file, not a real offset).
GRID_TOLERANCE: float = 1e-3


class Recording(eqx.Module):
    """A measured voltage trace with its time axis: `v[i]` (mV) sampled at `t[i]` (ms).

    The times must lie on the simulation grid t0 + k·dt (within `GRID_TOLERANCE`·dt), equally
    spaced by a whole number of steps; `scjax.fit` then compares `v` with the simulated states
    at those times, whatever the number of samples.
    """

    t: Float[np.ndarray, " N"]
    v: Float[np.ndarray, " N"]

    def __init__(self, t, v):
        self.t = np.asarray(t, dtype=float)
        self.v = np.asarray(v, dtype=float)

    def __check_init__(self):
        if self.t.ndim != 1 or self.t.shape != self.v.shape or self.t.size == 0:
            raise ValueError(
                f"Recording: t and v must be non-empty 1-D arrays of one length, "
                f"got t {self.t.shape} and v {self.v.shape}"
            )
        for name, arr in (("t", self.t), ("v", self.v)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(
                    f"Recording: {name} must be finite; it has "
                    f"{int(np.sum(~np.isfinite(arr)))} non-finite values"
                )
        if self.t.size > 1 and not np.all(np.diff(self.t) > 0):
            raise ValueError("Recording: t must be strictly increasing")

    @classmethod
    def sampled(cls, v, dt: float, t_first: float) -> "Recording":
        """Samples every `dt` ms from `t_first` on: `t[i] = t_first + i·dt`.

        For a trace of T samples driven by a current of T samples starting at t0, use
        `t_first = t0` when `v[i]` was sampled together with `current[i]` (a recording) and
        `t_first = t0 + dt` when `v[i]` is the state after step i (`Trajectory.v[1:]`)."""
        v = np.asarray(v, dtype=float)
        return cls(t_first + dt * np.arange(v.shape[-1]), v)

    def spike_times(self, threshold: float) -> Float[np.ndarray, " K"]:
        """The times (ms) of the upward crossings of `threshold`: `t[i]` where `v[i-1]` is
        strictly below it and `v[i]` at or above, the rule of
        `scjax.models.AbstractCrossingModel`. A crossing is reported at the end of the step
        it happened in, as `Trajectory.spike_times()` and `scjax.fit` report one, so these
        times are a spike-loss target on the recording's grid."""
        crossed = (self.v[:-1] < threshold) & (self.v[1:] >= threshold)
        return self.t[1:][crossed]


def grid_slice(t, n_steps: int, dt: float, t0: float) -> tuple[int, int, int]:
    """(start, stop, step) such that `y[start:stop:step]` of a simulation of `n_steps` steps
    is sampled at the times `t`; ValueError if `t` is off the grid or not equally spaced."""
    t = np.asarray(t, dtype=float)
    k = np.rint((t - t0) / dt)
    off = np.abs(t - (t0 + k * dt))
    if np.any(off > GRID_TOLERANCE * dt):
        i = int(np.argmax(off))
        raise ValueError(
            f"target times must lie on the simulation grid t0 + k·dt (t0 = {t0}, "
            f"dt = {dt}); t[{i}] = {t[i]!r} is {off[i]:.3g} ms off"
        )
    if k[0] < 0 or k[-1] > n_steps:
        raise ValueError(
            f"target times must lie in [{t0}, {t0 + n_steps * dt}] ms (the "
            f"simulated window), got [{t[0]!r}, {t[-1]!r}]"
        )
    k = k.astype(np.int64)
    step = int(k[1] - k[0]) if k.size > 1 else 1
    if np.any(np.diff(k) != step):
        raise ValueError("target times must be equally spaced by a whole number of steps")
    return int(k[0]), int(k[-1]) + 1, step


def align_voltage(
    target, n_steps: int, dt: float, t0: float
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """(voltage samples, grid slice) of a `trace_mse` target: a `Trajectory` or `Recording`
    (aligned by their times) or an array of exactly `n_steps + 1` samples (`y[0]` included)."""
    from .._trajectory import Trajectory

    if isinstance(target, Trajectory):
        target = Recording(target.t, target.v)
    if isinstance(target, Recording):
        return target.v, grid_slice(target.t, n_steps, dt, t0)
    v = np.asarray(target, dtype=float)
    if v.shape == (n_steps + 1,):
        return v, (0, n_steps + 1, 1)
    hint = ""
    if v.shape == (n_steps,):
        hint = (
            f". A trace of {n_steps} samples is one sample short of the grid and could sit "
            "on it two ways: pass scjax.fitting.Recording(t, v) with its sample times, or "
            f"Recording.sampled(v, dt, t_first=t0) when v[i] was sampled with current[i] "
            f"(a recording), t_first=t0 + dt when v[i] is the state after step i (y[1:])"
        )
    raise ValueError(
        f"target voltage must have shape ({n_steps + 1},) (including y[0]) for "
        f"a current of {n_steps} samples, or be a Recording / Trajectory with its "
        f"times, got {v.shape}{hint}"
    )
