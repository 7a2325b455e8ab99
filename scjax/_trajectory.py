"""The one output schema of every simulation path (JAX, native, SciPy, Julia)."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float


class Trajectory(eqx.Module):
    """A simulated trace. Under `jax.vmap` every array gains the batch axes in front.

    Fields:
        t: sample times in ms, shape `[T+1]`; `t[n+1] − t[n] = dt` (`dt·save_every` when
            `simulate` saved every `save_every` steps; then `y` is sampled likewise).
        y: states, shape `[T+1, n_state]`; `y[0]` is the initial state and `y[n+1]` the state
            after step n (after the reset, for models that reset).
        spikes: shape `[T]` bool; `spikes[n]` is True when step n (from `t[n]` to `t[n+1]`)
            produced a spike.
        spike_signal: shape `[T]`, `spikes` as 0.0/1.0 in the run's dtype; under
            `simulate(surrogate=...)` it carries the surrogate derivative (for spike-count and
            firing-rate losses). Backends without gradients fill it from `spikes`.
        state_names: the names of the columns of `y`, e.g. `("v", "u")`.
        diverged: scalar bool, True when the state became non-finite (reported as an error by
            `simulate(throw=True)`, the default; only visible with `throw=False`).
    """

    t: Float[Array, " T+1"]
    y: Float[Array, "T+1 n_state"]
    spikes: Bool[Array, " T"]
    spike_signal: Float[Array, " T"]
    state_names: tuple[str, ...] = eqx.field(static=True)
    diverged: Bool[Array, ""]

    def state(self, name: str) -> Float[Array, " T+1"]:
        """One state component by name, e.g. `tr.state("v")`."""
        if name not in self.state_names:
            raise ValueError(f"name must be one of {self.state_names}, got {name!r}")
        return self.y[..., self.state_names.index(name)]

    @property
    def v(self) -> Float[Array, " T+1"]:
        """The membrane potential (the first state component of every scjax model)."""
        return self.y[..., 0]

    @property
    def spike_count(self):
        return jnp.sum(self.spikes, axis=-1)

    def spike_times(self) -> np.ndarray:
        """Times (ms) at the end of each step that spiked (single, unbatched trace)."""
        if self.spikes.ndim != 1:
            raise ValueError("spike_times() needs an unbatched trajectory; index the batch first")
        spikes = np.asarray(self.spikes)
        t = np.asarray(self.t)
        dt = (t[-1] - t[0]) / spikes.shape[0]
        return t[0] + dt * (np.flatnonzero(spikes) + 1)
