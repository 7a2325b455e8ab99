"""The fit objective: unconstrained parameters u → model → simulation(s) → scalar loss.

Losses and the objective are `eqx.Module`s with their configuration static, so that the
compiled optimisation is cached across fits that differ only in array values.
"""

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp

from .._trajectory import Trajectory
from ..models import AbstractNeuronModel
from ..simulation import InStepEvents, simulate
from . import _losses

LOSS_NAMES: tuple[str, ...] = (
    "trace_mse",
    "van_rossum",
    "spike_count",
    "firing_rate",
    "fi_curve",
    "spike_times",
)
#: The losses that compare located spike times under `fit(events="in_step")`.
IN_STEP_SPIKE_LOSSES: tuple[str, ...] = ("van_rossum", "spike_times")


class TrajectoryLoss(eqx.Module):
    """loss(trajectory, prepared target) for one named loss, with its hyperparameters."""

    name: str = eqx.field(static=True)
    dt: float = eqx.field(static=True)
    tau: float = eqx.field(static=True)
    subthreshold: float | None = eqx.field(static=True)
    # Indices of the simulated samples the target voltage is aligned with: an array, not a
    # static slice, so that fits differing only in the alignment share one compilation.
    v_index: jax.Array | None

    def __call__(self, tr: Trajectory, target):
        if self.name == "trace_mse":
            assert self.v_index is not None
            v = tr.v[self.v_index]
            return _losses.trace_mse(v, target, subthreshold=self.subthreshold)
        if self.name == "van_rossum":
            return _losses.van_rossum(tr, target, self.dt, self.tau)
        if self.name == "spike_count":
            return _losses.spike_count(tr, target)
        # firing_rate and fi_curve (firing rate per sweep)
        return _losses.firing_rate(tr, target, self.dt)


class LocatedSpikeLoss(eqx.Module):
    """loss(trajectory, (target times, target mask)) on the spike times located inside the
    step (`events="in_step"`, `spikes="times"`): `spike_time_mse` or the closed-form van
    Rossum distance `van_rossum_times`, no surrogate."""

    name: str = eqx.field(static=True)
    tau: float = eqx.field(static=True)

    def __call__(self, tr: Trajectory, target):
        times, mask = _losses.located_spike_times(tr)
        target_times, target_mask = target
        if self.name == "spike_times":
            return _losses.spike_time_mse(times, mask, target_times, target_mask, tr.t[-1])
        return _losses.van_rossum_times(times, mask, target_times, target_mask, self.tau)


class CallableLoss(eqx.Module):
    fn: Callable = eqx.field(static=True)

    def __call__(self, *args):
        return self.fn(*args)


def with_params(model, names, transforms, u):
    """`model` with `names[j] = transforms[j].forward(u[j])` written in."""
    values = tuple(t.forward(u[j]) for j, t in enumerate(transforms))
    return eqx.tree_at(lambda m: tuple(getattr(m, n) for n in names), model, values)


class Simulation(eqx.Module):
    """What an objective simulates: the current (`[T]`, or `[K, T]` sweeps), the target
    prepared for it, and `scjax.simulate`'s settings (`events`, `spikes`, `max_spikes`:
    its defaults are the historical run)."""

    current: jax.Array
    target: object
    dt: jax.Array
    t0: jax.Array
    y0: jax.Array | None
    surrogate: object
    solver: diffrax.AbstractSolver | None
    events: str | InStepEvents = eqx.field(static=True, default="end_of_step")
    spikes: str = eqx.field(static=True, default="raster")
    max_spikes: int = eqx.field(static=True, default=64)

    @property
    def sequential(self) -> bool:
        """Whether sweeps and restarts run one at a time (`lax.map`) rather than vmapped:
        for in-step events, whose root find is a `lax.cond` taken only in spiking steps
        (vmapped, it would run in every step)."""
        return self.events != "end_of_step"

    def run(self, model, current) -> Trajectory:
        """`scjax.simulate` of `model` under one sweep `current`, never raising (a diverged
        run says so in its `diverged`)."""
        return simulate(
            model,
            current,
            self.dt,
            solver=self.solver,
            y0=self.y0,
            t0=self.t0,
            throw=False,
            surrogate=self.surrogate,
            events=self.events,
            spikes=self.spikes,
            max_spikes=self.max_spikes,
        )


class Objective(eqx.Module):
    """`objective(u)`: the loss of the model whose learnt parameters are `forward(u)`,
    averaged over the sweeps of a `[K, T]` current; `loss(model)` when `simulation` is None."""

    model: AbstractNeuronModel
    names: tuple[str, ...] = eqx.field(static=True)
    transforms: tuple
    loss_fn: Callable  # a TrajectoryLoss or LocatedSpikeLoss; a CallableLoss
    simulation: Simulation | None

    @property
    def sequential(self) -> bool:
        """Whether restarts run one at a time (see `Simulation.sequential`)."""
        return self.simulation is not None and self.simulation.sequential

    def __call__(self, u):
        m = with_params(self.model, self.names, self.transforms, u)
        sim = self.simulation
        if sim is None:
            return self.loss_fn(m)

        def one(c, tgt):
            tr = sim.run(m, c)
            # A blow-up that a reset made finite again still fails the step.
            return jnp.where(tr.diverged, jnp.inf, self.loss_fn(tr, tgt))

        if sim.current.ndim == 1:
            return one(sim.current, sim.target)
        if sim.sequential:
            return jnp.mean(jax.lax.map(lambda a: one(*a), (sim.current, sim.target)))
        return jnp.mean(jax.vmap(one)(sim.current, sim.target))
