"""The one result type of every adaptive solve (in-process, SciPy, Julia) and its spike raster."""

import equinox as eqx
import jax
import jax.core  # explicit: a type checker does not see the submodule through `jax`
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from .._trajectory import Trajectory


class RESULTS(eqx.Enumeration):
    """How an adaptive solve ended (`Solution.result`)."""

    successful = ""
    solve_failed = (
        "an inner diffeqsolve failed (max_steps reached or the step size collapsed): raise "
        "max_steps or loosen rtol"
    )
    max_spikes_reached = "max_spikes reached: raise max_spikes or shorten t_span"


class Solution(eqx.Module):
    """The output of an adaptive solve: `scjax.adaptive.solve` and the `solve` of the SciPy
    and Julia backends.

    Fields:
        trajectory: a `scjax.Trajectory` on the save grid (`t[n] = t0 + n·saveat`); its
            `spikes[n]` is True when a spike time lies in (t[n], t[n+1]].
        spike_times: the root-found spike times in ms, padded with +inf past `n_spikes`
            (in-process: shape `[max_spikes]`; NumPy backends: exactly the spikes found).
        n_spikes: number of valid entries of `spike_times`.
        n_steps: accepted steps of the adaptive solver, all segments together; -1 where the
            backend does not report it (Julia).
        result: a `RESULTS` item.
    """

    trajectory: Trajectory
    spike_times: Float[ArrayLike, " max_spikes"]
    n_spikes: Int[ArrayLike, ""]
    n_steps: Int[ArrayLike, ""]
    result: RESULTS

    def result_code(self) -> int:
        """`result` as its index in `RESULTS` (0 successful, 1 solve_failed,
        2 max_spikes_reached), for JSON reports (single, concrete solution)."""
        return int(np.asarray(self.result._value))  # equinox keeps the index private

    def spike_times_array(self) -> np.ndarray:
        """The valid spike times as a NumPy array (single, unbatched solution)."""
        return np.asarray(self.spike_times)[: int(np.asarray(self.n_spikes))]


def spike_raster(
    grid: Float[Array | np.ndarray, " n_out"],
    spike_times: Float[Array | np.ndarray, " k"],
    n_valid,
) -> Bool[Array | np.ndarray, " n_out-1"]:
    """`spikes[n]` = some valid spike time s has grid[n] < s <= grid[n+1] (the first
    `n_valid` entries of `spike_times` are valid). NumPy in, NumPy out; JAX (also traced)
    in, JAX out."""
    xp = jnp if isinstance(spike_times, (jax.Array, jax.core.Tracer)) else np
    n = grid.shape[0] - 1
    bins = xp.searchsorted(grid, spike_times, side="left") - 1
    valid = (xp.arange(spike_times.shape[0]) < n_valid) & (bins >= 0) & (bins < n)
    bins = xp.where(valid, bins, n)  # invalid → one extra bin, cut off below
    if xp is np:
        counts = np.bincount(bins, minlength=n + 1)
    else:
        counts = jnp.bincount(bins, length=n + 1)
    return counts[:n] > 0


def solution_from_samples(
    model, grid: np.ndarray, ys: np.ndarray, spike_times, *, n_steps: int = -1
) -> Solution:
    """A `Solution` from a NumPy backend's save-grid samples and spike times (float64)."""
    ys = np.asarray(ys, np.float64)
    spike_times = np.asarray(spike_times, np.float64).reshape(-1)
    spikes = spike_raster(grid, spike_times, spike_times.size)
    traj = Trajectory(
        t=grid,
        y=ys,
        spikes=spikes,
        spike_signal=None,
        state_names=tuple(model.state_names),
        diverged=np.bool_(~np.all(np.isfinite(ys))),
        spike_count=np.int64(spikes.sum()),
    )
    return Solution(
        trajectory=traj,
        spike_times=spike_times,
        n_spikes=np.int64(spike_times.size),
        n_steps=np.int64(n_steps),
        result=RESULTS.successful,
    )
