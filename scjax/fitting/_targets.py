"""Target preparation: what the user gave as `target`, as arrays on the simulation grid.

Everything here is concrete NumPy work done before anything is traced, so every problem is a
`ValueError` naming the target before compilation.
"""

import math

import jax
import numpy as np

from .._trajectory import Trajectory
from . import _losses
from ._alignment import Recording, align_voltage


def check_finite(name: str, arr: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{name} must be finite; it has {int(np.sum(~np.isfinite(arr)))} non-finite values"
        )
    return arr


def _spike_array(target, n_steps: int) -> tuple[np.ndarray, bool]:
    """A spike target that is no `Trajectory`, checked: (a bool raster `[T]`, True) or
    (sorted finite spike times in ms, False). A `Recording` is refused: it is a voltage."""
    if isinstance(target, Recording):
        raise ValueError(
            "a Recording target is a voltage trace (loss='trace_mse'); spike "
            "losses take spike times in ms, a bool raster or a Trajectory"
        )
    arr = np.asarray(target)
    if arr.dtype == bool:
        if arr.shape != (n_steps,):
            raise ValueError(f"target spike raster must have shape ({n_steps},), got {arr.shape}")
        return arr, True
    if arr.ndim != 1:
        raise ValueError(f"target spike times must be a 1-D array (ms), got shape {arr.shape}")
    times = check_finite("target", arr.astype(float))
    if times.size > 1 and np.any(np.diff(times) < 0):
        raise ValueError("target spike times must be sorted")
    return times, False


def _spike_signal(target, n_steps: int, dt: float, t0: float) -> np.ndarray:
    """A `[T]` spike signal from a Trajectory, a bool raster `[T]`, or spike times (ms)."""
    if isinstance(target, Trajectory):
        sig = np.asarray(target.as_spike_signal(), dtype=float)
        if sig.shape != (n_steps,):
            raise ValueError(f"target Trajectory has {sig.shape[-1]} steps, current has {n_steps}")
        return check_finite("target", sig)
    arr, is_raster = _spike_array(target, n_steps)
    if is_raster:
        return arr.astype(float)
    if arr.size == 0:
        return np.zeros(n_steps)
    try:
        return _losses.spike_times_to_signal(arr, n_steps, dt, t0=t0)
    except ValueError as e:
        raise ValueError(f"target spike {e}") from None


def _prepare_one(name: str, target, n_steps: int, dt: float, t0: float):
    """(prepared target array, grid slice of the voltage or None) for one sweep."""
    if name == "trace_mse":
        v, grid = align_voltage(target, n_steps, dt, t0)
        return check_finite("target", v), grid
    if name in ("spike_count", "firing_rate", "fi_curve") and not isinstance(
        target, Trajectory | Recording
    ):
        arr = np.asarray(target)
        if arr.ndim == 0:
            value = float(arr)
            if not math.isfinite(value) or value < 0:
                raise ValueError(
                    f"target {name.replace('_', ' ')} must be finite and >= 0, got {value}"
                )
            return np.asarray(value), None
    sig = _spike_signal(target, n_steps, dt, t0)
    if name == "spike_count":
        return np.asarray(sig.sum()), None
    if name in ("firing_rate", "fi_curve"):
        return np.asarray(sig.sum() * 1000.0 / (n_steps * dt)), None
    return sig, None  # van_rossum


def _sweeps(target, n_sweeps: int) -> list:
    if isinstance(target, Trajectory):
        if target.y.ndim != 3 or target.y.shape[0] != n_sweeps:
            raise ValueError(
                f"target Trajectory must be batched over the {n_sweeps} sweeps of "
                f"current, got y of shape {target.y.shape}"
            )
        return [jax.tree.map(lambda x, k=k: x[k], target) for k in range(n_sweeps)]
    if isinstance(target, np.ndarray | jax.Array) and np.asarray(target).dtype != object:
        arr = np.asarray(target)
        if arr.ndim == 0 or arr.shape[0] != n_sweeps:
            raise ValueError(
                f"target must have one entry per sweep ({n_sweeps}), got shape {arr.shape}"
            )
        return list(arr)
    if isinstance(target, Recording):
        raise ValueError(
            f"target must have one entry per sweep ({n_sweeps}): a list of "
            "Recordings, got one Recording"
        )
    sweeps = list(target)
    if len(sweeps) != n_sweeps:
        raise ValueError(f"target must have one entry per sweep ({n_sweeps}), got {len(sweeps)}")
    return sweeps


def prepare_target(name: str, target, current: np.ndarray, dt: float, t0: float):
    """(target array `[...]` or `[K, ...]`, the voltage's grid slice (start, stop, step) or
    None) for the named loss and a `[T]` or `[K, T]` current."""
    if target is None:
        raise ValueError(f"target is required for loss={name!r}")
    n_steps = current.shape[-1]
    if current.ndim == 1:
        return _prepare_one(name, target, n_steps, dt, t0)
    prepared = [_prepare_one(name, s, n_steps, dt, t0) for s in _sweeps(target, current.shape[0])]
    grids = {g for _, g in prepared}
    if len(grids) != 1:
        raise ValueError(
            f"target voltages must all sit on the same grid points, got the "
            f"slices (start, stop, step) {sorted(g for g in grids if g is not None)}"
        )
    return np.stack([p for p, _ in prepared]), grids.pop()


def _spike_times_one(target, n_steps: int, dt: float, t0: float) -> np.ndarray:
    """The spike times (ms) of one sweep's target, for the in-step spike-time losses: a
    `Trajectory` (its time buffer when it has one, located times included, else the end of
    each step that spiked), a bool raster `[T]` (the end of each step that spiked), or spike
    times in ms (kept as they are: sub-step times are the point of in-step events)."""
    t_end = t0 + n_steps * dt
    if isinstance(target, Trajectory):
        if np.ndim(target.spike_count) != 0:
            raise ValueError("target Trajectory must be unbatched for a [T] current")
        if target.spike_time_buffer is None and (
            target.spikes is None or np.shape(target.spikes) != (n_steps,)
        ):
            raise ValueError(
                f"target Trajectory must have a spike-time buffer (spikes='times') or a "
                f"raster of {n_steps} steps"
            )
        if target.spike_time_buffer is not None and bool(np.asarray(target.spike_overflow)):
            raise ValueError(
                "target Trajectory overflowed its spike-time buffer; simulate it with a "
                "larger max_spikes"
            )
        times = np.asarray(target.spike_times(), dtype=float)
    else:
        arr, is_raster = _spike_array(target, n_steps)
        if is_raster:
            return t0 + dt * (np.flatnonzero(arr) + 1.0)
        times = arr
    if times.size and (times.min() <= t0 or times.max() > t_end):
        raise ValueError(
            f"target spike times must lie in ({t0}, {t_end}] ms (the simulated window), got "
            f"min {times.min():.6g}, max {times.max():.6g}"
        )
    return times


def prepare_spike_times(target, current: np.ndarray, dt: float, t0: float):
    """(times, mask) for the in-step spike-time losses: `[M]` each for a `[T]` current,
    `[K, M]` for `[K, T]` (M the largest target count, ≥ 1; padded entries hold the window
    end, mask 0.0), and the largest count."""
    if target is None:
        raise ValueError("target is required for a spike-time loss")
    n_steps = current.shape[-1]
    sweeps = [target] if current.ndim == 1 else _sweeps(target, current.shape[0])
    times = [_spike_times_one(s, n_steps, dt, t0) for s in sweeps]
    size = max(1, *(t.size for t in times))
    t_end = t0 + n_steps * dt
    padded = np.full((len(times), size), t_end)
    mask = np.zeros((len(times), size))
    for k, t in enumerate(times):
        padded[k, : t.size], mask[k, : t.size] = t, 1.0
    if current.ndim == 1:
        padded, mask = padded[0], mask[0]
    return padded, mask, max(t.size for t in times)
