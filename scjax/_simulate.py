"""The fixed-step simulation loop: one `jax.lax.scan` for every model and solver."""

import functools

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._custom_types import CurrentTrace, Key, ScalarLike, State
from ._surrogate import surrogate_from_name
from ._trajectory import Trajectory
from ._validation import as_current, check_dt, check_finite_scalar, is_concrete
from .models._base import AbstractNeuronModel
from .solvers._base import AbstractRosenbrockSolver
from .solvers._half_euler import HalfEuler


class _StepTerm(diffrax.AbstractTerm):
    """The model's vector field with the control fixed to exactly `dt`.

    `t1 − t0` computed from floating-point times differs from `dt` in the last bits once t is
    large; the native libraries and the NumPy transcriptions of the historical recurrences use
    `dt` itself, so the loop does too (parity to 1e-12 depends on it).
    """

    model: AbstractNeuronModel
    dt: jax.Array

    def vf(self, t, y, args):
        return self.model.vector_field(t, y, args)

    def contr(self, t0, t1, **kwargs):
        return self.dt

    def prod(self, vf, control):
        return vf * control


def simulate(
    model: AbstractNeuronModel,
    current: CurrentTrace,
    dt: ScalarLike,
    *,
    solver: diffrax.AbstractSolver | None = None,
    y0: State | None = None,
    key: Key | None = None,
    t0: ScalarLike = 0.0,
    throw: bool = True,
    surrogate=None,
    save_every: int = 1,
    check_step: bool = True,
) -> Trajectory:
    """Integrate `model` over a piecewise-constant current trace with a fixed step.

    Sample `current[n]` holds over [t0 + n·dt, t0 + (n+1)·dt); each sample is one step of
    `solver`, followed by the model's spike rule (threshold + reset, or upward crossing).

    Arguments:
        model: any `scjax.models.AbstractNeuronModel`.
        current: shape `[T]`, finite; its float dtype is the dtype of the run (float64 for
            parity, float32 for throughput).
        dt: step in ms, a positive finite scalar.
        solver: a `diffrax.AbstractSolver`; None means the model's own `integrator`.
            A `HalfEuler()` without `fast_mask` gets the model's.
        y0: initial state `[n_state]`; None means `model.initial_state()`.
        key: PRNG key for the model's current noise (required when `model.noise_std > 0`).
            Noise is one Gaussian draw of standard deviation `noise_std` per current sample,
            as in Izhikevich (2003) (not scaled by √dt).
        t0: time of the first sample, ms.
        throw: if True (default), a non-finite state raises at run time (`eqx.error_if`);
            if False the trajectory is returned with `diverged=True`.
        save_every: keep the state every `save_every` steps only (T must be a multiple);
            `y` then has shape `[T/save_every + 1, n_state]`, `t` likewise, while `spikes`
            keeps one entry per step. Use `save_every=T` for the final state only (large
            batches: the memory for states no longer grows with T).
        check_step: refuse (`ValueError`) a Rosenbrock step too large for the model's spike
            upstroke, where the step stalls or reverses and spikes are silently lost (see
            `docs/conventions.md`). Set False for runs that cannot spike (sub-threshold).
        surrogate: None (the threshold has zero derivative), `"sigmoid"`, `"fast_sigmoid"`,
            or a `scjax.AbstractSurrogate`: gradients then cross the threshold and reset
            through the surrogate derivative (forward values are unchanged).

    Returns:
        A `scjax.Trajectory` with `t [T+1]`, `y [T+1, n_state]`, `spikes [T]` (with
        `save_every = k`: `t [T/k+1]`, `y [T/k+1, n_state]`).

    Batch with `jax.vmap` over parameters, currents or initial states; differentiate with
    `jax.grad` (each step is `jax.checkpoint`-ed, so memory holds one state per step, not the
    solver's internals).
    """
    surrogate = surrogate_from_name(surrogate)
    if not isinstance(model, AbstractNeuronModel):
        raise ValueError(f"model must be a scjax model, got {type(model).__name__}")
    check_dt(dt)
    check_finite_scalar("t0", t0)
    current = as_current(current)
    dtype = current.dtype
    if not (isinstance(save_every, int) and save_every >= 1
            and current.shape[0] % save_every == 0):
        raise ValueError(
            f"save_every must be a positive int dividing the {current.shape[0]} steps, "
            f"got {save_every!r}"
        )
    if solver is None:
        solver = model.solver()
    elif isinstance(solver, HalfEuler) and solver.fast_mask is None:
        solver = HalfEuler(fast_mask=model.fast_mask)
    if not isinstance(solver, diffrax.AbstractSolver):
        raise ValueError(f"solver must be a diffrax.AbstractSolver, got {type(solver).__name__}")
    _check_discrete_time_model(model, solver, dt)
    if check_step:
        _check_linearly_implicit_step(model, solver, dt)
    if y0 is None:
        y0 = model.initial_state()
    elif is_concrete(y0):
        y0_np = np.asarray(y0)
        if y0_np.shape != (model.n_state,):
            raise ValueError(
                f"y0 must have shape ({model.n_state},) for {type(model).__name__} "
                f"{model.state_names}, got {y0_np.shape}"
            )
        if not np.all(np.isfinite(y0_np)):
            raise ValueError(f"y0 must be finite, got {y0_np}")
    if key is None:
        if is_concrete(model.noise_std) and float(model.noise_std) != 0.0:
            raise ValueError(
                f"key is None but model.noise_std = {float(model.noise_std)}: pass "
                "key=jax.random.key(seed) to draw the current noise reproducibly"
            )
    else:
        current = current + model.noise_std * jax.random.normal(key, current.shape, dtype)
    # Parameters become arrays of the run's dtype, so a new parameter value does not retrace.
    model = jax.tree.map(lambda p: jnp.asarray(p, dtype), model)
    return _run(model, solver, current, jnp.asarray(dt, dtype), jnp.asarray(y0, dtype),
                jnp.asarray(t0, dtype), throw, surrogate, save_every)


def _check_discrete_time_model(model, solver, dt) -> None:
    """A model with a `dt` field (e.g. `FixedPointLIF`) is a discrete-time update built for
    that step and applied by one Euler step: any other dt or solver would be silently wrong."""
    if not hasattr(model, "dt"):
        return
    from .solvers._euler import Euler

    if type(solver) is not Euler:
        raise ValueError(f"solver must be Euler for {type(model).__name__} (its step is the "
                         f"discrete update), got {type(solver).__name__}")
    if is_concrete(dt) and is_concrete(model.dt) and float(dt) != float(model.dt):
        raise ValueError(f"dt = {float(dt)} differs from the dt = {float(model.dt)} "
                         f"{type(model).__name__} was built for")


def _check_linearly_implicit_step(model, solver, dt) -> None:
    """Refuse a Rosenbrock step too large for a model's explosive upstroke (see
    `AdEx.upstroke_rate`, `solver.upstroke_limit`): the run would silently lose spikes."""
    if not (isinstance(solver, AbstractRosenbrockSolver) and hasattr(model, "upstroke_rate")):
        return
    if not (is_concrete(dt) and all(is_concrete(leaf) for leaf in jax.tree.leaves(model))):
        return  # traced parameters (vmap/grad over the model): nothing to check eagerly
    rate = model.upstroke_rate()
    if is_concrete(rate):
        stiffness = solver.gamma * float(dt) * float(rate)
        limit = solver.upstroke_limit
        if stiffness >= limit:
            raise ValueError(
                f"dt = {float(dt)} is too large for {type(solver).__name__} on "
                f"{type(model).__name__}: gamma*dt*upstroke_rate = {stiffness:.3g} >= {limit}, "
                "where the linearly implicit step stalls or reverses the spike upstroke. Use "
                f"dt < {limit / (solver.gamma * float(rate)):.3g} or a lower v_peak."
            )


@eqx.filter_jit
def _run(model, solver, current, dt, y0, t0, throw: bool, surrogate, save_every: int
         ) -> Trajectory:
    # Traced inputs could not be checked at the boundary; check them now, before the loop.
    current = eqx.error_if(current, ~jnp.all(jnp.isfinite(current)), "current must be finite")
    dt = eqx.error_if(dt, ~(jnp.isfinite(dt) & (dt > 0)), "dt must be positive and finite")
    term = _StepTerm(model, dt)
    n_steps = current.shape[0]
    n_saved = n_steps // save_every
    ts = t0 + dt * jnp.arange(n_steps + 1, dtype=current.dtype)

    # prevent_cse=False: scan already keeps the rematerialised step from being CSE'd, and
    # the default optimisation barrier costs ~20 % of forward throughput.
    @functools.partial(jax.checkpoint, prevent_cse=False)
    def step(y, inputs):
        t_n, i_n = inputs
        y_next, _, _, _, _ = solver.step(term, t_n, t_n + dt, y, i_n, None, False)
        y_kept, spike = model.spike_and_reset(y, y_next, surrogate)
        return y_kept, spike

    def chunk(y, inputs):
        y, spikes = jax.lax.scan(step, y, inputs)
        return y, (y, spikes)

    # Outer scan over saved samples, inner scan over the steps between them.
    inputs = (ts[:-1].reshape(n_saved, save_every), current.reshape(n_saved, save_every))
    _, (ys, spike_signal) = jax.lax.scan(chunk, y0, inputs)
    ys = jnp.concatenate([y0[None], ys], axis=0)
    spike_signal = spike_signal.reshape(n_steps)
    # Without a surrogate the loop carries booleans (1 byte per neuron-step, not 8): large
    # batches keep their spike rasters on the device.
    spikes = spike_signal if surrogate is None else spike_signal > 0.5
    spike_signal = spike_signal.astype(ys.dtype)
    ts = ts[::save_every]
    diverged = ~jnp.all(jnp.isfinite(ys))
    if throw:
        ys = eqx.error_if(
            ys, diverged,
            "the state became non-finite: dt is too large for this solver (try a smaller dt "
            "or integrator='rosenbrock'), or pass throw=False to inspect the trajectory",
        )
    return Trajectory(t=ts, y=ys, spikes=spikes, spike_signal=spike_signal,
                      state_names=model.state_names, diverged=diverged)
