"""The one output schema of every simulation path (JAX, native, SciPy, Julia)."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int


class Trajectory(eqx.Module):
    """A simulated trace. Under `jax.vmap` (or from `simulate_batch`) every array gains the
    batch axis `B` in front.

    Fields:
        t: sample times in ms, shape `[T+1]`; `t[n+1] − t[n] = dt` (`dt·save_every` when
            `simulate` saved every `save_every` steps; then `y` is sampled likewise).
        y: states, shape `[T+1, n_rec]`; `y[0]` is the initial state and `y[n+1]` the state
            after step n (after the reset, for models that reset). Its columns are
            `state_names` (every state component unless `simulate(record=...)` chose some).
        spikes: shape `[T]` bool; `spikes[n]` is True when step n (from `t[n]` to `t[n+1]`)
            produced a spike. None when the run recorded `spikes="count"` or `"times"`.
        spike_signal: shape `[T]`: under `simulate(surrogate=...)` the spikes as 0.0/1.0 in
            the run's dtype, carrying the surrogate derivative (for spike-count and
            firing-rate losses). None without a surrogate (read `spikes`).
        state_names: the names of the columns of `y`, e.g. `("v", "u")`.
        diverged: bool (scalar, `[B]` for a batch): True when the state became non-finite at
            any step (reported as an error by `simulate(throw=True)`, the default; only
            visible with `throw=False`). A non-finite state is never reset back to a finite
            one: from the step that overflowed on, that neuron's state is NaN.
        spike_count: the number of spikes (int32; under a surrogate a float carrying its
            derivative). Recorded by every mode.
        spike_time_buffer: with `spikes="times"`, shape `[max_spikes]`: the time of each
            spike in order, then +inf: the end of the step that spiked (default), or the
            crossing located inside the step with `simulate(events="in_step")`. None
            otherwise.
        spike_overflow: with `spikes="times"`, bool: True when more than `max_spikes` spikes
            occurred (the buffer keeps the first `max_spikes`; `spike_count` is exact).
    """

    t: Float[Array, " T+1"]
    y: Float[Array, "T+1 n_rec"]
    spikes: Bool[Array, " T"] | None
    spike_signal: Float[Array, " T"] | None
    state_names: tuple[str, ...] = eqx.field(static=True)
    diverged: Bool[Array, ""]
    spike_count: Int[Array, ""] | Float[Array, ""]
    spike_time_buffer: Float[Array, " max_spikes"] | None
    spike_overflow: Bool[Array, ""] | None

    def __init__(
        self,
        t,
        y,
        spikes,
        spike_signal,
        state_names,
        diverged,
        spike_count=None,
        spike_time_buffer=None,
        spike_overflow=None,
    ):
        if spike_count is None:
            if spikes is None:
                raise ValueError("spike_count is required when spikes (the raster) is None")
            spike_count = jnp.sum(spikes, axis=-1)
        self.t = t
        self.y = y
        self.spikes = spikes
        self.spike_signal = spike_signal
        self.state_names = tuple(state_names)
        self.diverged = diverged
        self.spike_count = spike_count
        self.spike_time_buffer = spike_time_buffer
        self.spike_overflow = spike_overflow

    def state(self, name: str) -> Float[Array, " T+1"]:
        """One recorded state component by name, e.g. `tr.state("v")`."""
        if name not in self.state_names:
            raise ValueError(f"name must be one of {self.state_names}, got {name!r}")
        return self.y[..., self.state_names.index(name)]

    @property
    def v(self) -> Float[Array, " T+1"]:
        """The first column of `y`, i.e. `state_names[0]`: the membrane potential when a
        neuron model recorded all its states (in mV, except `FixedPointLIF`'s `v_q`, in units
        of 1/256 mV), but whatever was recorded first under `simulate(record=...)`, and a
        reference system's first state, which is no voltage. `state("v")` selects by name."""
        return self.y[..., 0]

    def as_spike_signal(self) -> Float[Array, " T"]:
        """The spikes as a float signal `[T]`: `spike_signal` under a surrogate (with its
        derivative), otherwise the raster as 0.0/1.0 in the run's dtype."""
        if self.spike_signal is not None:
            return self.spike_signal
        if self.spikes is None:
            raise ValueError(
                "this run recorded spike counts only; simulate with "
                "spikes='raster' for a spike signal"
            )
        return jnp.asarray(self.spikes).astype(jnp.result_type(self.y))

    def spike_times(self) -> np.ndarray:
        """Times (ms) at the end of each step that spiked (single, unbatched trace)."""
        if np.ndim(self.spike_count) != 0:
            raise ValueError("spike_times() needs an unbatched trajectory; index the batch first")
        if self.spike_time_buffer is not None:
            times = np.asarray(self.spike_time_buffer)
            return times[np.isfinite(times)]
        if self.spikes is None:
            raise ValueError(
                "spike_times() needs spikes='raster' or 'times'; this run recorded counts only"
            )
        spikes = np.asarray(self.spikes)
        t = np.asarray(self.t)
        dt = (t[-1] - t[0]) / spikes.shape[0]
        return t[0] + dt * (np.flatnonzero(spikes) + 1)
