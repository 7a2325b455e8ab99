"""F–I curves: the steady firing rate under each constant current, from one vmapped
`scjax.simulate`."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._validation import check_dt, check_finite_scalar
from ..models._base import AbstractNeuronModel
from ..simulation import simulate
from ._checks import check_currents, check_model, float_dtype


def simulate_currents(model, currents, dt, duration, transient, solver, y0):
    """One vmapped `scjax.simulate` per constant current; returns (trajectory, first index
    after the transient, default half the duration)."""
    check_dt(dt)
    check_finite_scalar("duration", duration, positive=True)
    n_steps = int(round(float(duration) / float(dt)))
    if n_steps < 1:
        raise ValueError(f"duration must be at least one step dt = {dt}, got {duration}")
    if transient is None:
        transient = 0.5 * float(duration)
    check_finite_scalar("transient", transient, nonnegative=True)
    start = int(round(float(transient) / float(dt)))
    if start >= n_steps:
        raise ValueError(f"transient must be shorter than duration = {duration}, got {transient}")
    dtype = float_dtype()
    currents = jnp.asarray(currents, dtype)

    def run(i, y):
        return simulate(model, jnp.full((n_steps,), i, dtype), dt, solver=solver, y0=y)

    if y0 is None:
        traj = jax.vmap(lambda i: run(i, None))(currents)
    else:
        y0 = jnp.asarray(y0, dtype)
        if y0.shape == (model.n_state,):
            traj = jax.vmap(run, in_axes=(0, None))(currents, y0)
        elif y0.shape == (currents.shape[0], model.n_state):
            traj = jax.vmap(run)(currents, y0)
        else:
            raise ValueError(
                f"y0 must have shape ({model.n_state},) or ({currents.shape[0]}, "
                f"{model.n_state}), got {y0.shape}"
            )
    return traj, start


def fi_curve(
    model: AbstractNeuronModel,
    currents,
    dt: float,
    duration: float,
    *,
    transient: float | None = None,
    solver=None,
    y0=None,
) -> Float[Array, " C"]:
    """Firing rate (Hz, with t in ms) under each constant current: the number of spikes after
    `transient` divided by the remaining time, from one vmapped `scjax.simulate`.

    Arguments:
        model: any scjax model (spikes by its own threshold / crossing rule).
        currents: `[C]` constant currents.
        dt, duration: step and length of every run, ms.
        transient: ms discarded before counting (default: half the duration), so the rate is
            the steady-state one and not the onset burst.
        solver: as in `scjax.simulate` (None: the model's integrator).
        y0: `[n_state]` or `[C, n_state]` initial states (default `model.initial_state()`,
            i.e. a current step from rest).
    """
    check_model(model)
    currents = check_currents(currents)
    traj, start = simulate_currents(model, currents, dt, duration, transient, solver, y0)
    # spikes[n] is the step t[n] → t[n+1]; count the steps that start after the transient.
    assert traj.spikes is not None  # simulate records the raster by default
    n = jnp.sum(traj.spikes[:, start:], axis=-1)
    window_ms = (traj.spikes.shape[-1] - start) * float(dt)
    return 1000.0 * n / window_ms
