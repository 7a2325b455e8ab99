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
    batched = [name for name in model.param_names if np.ndim(getattr(model, name)) > 0]
    if batched:
        raise ValueError(f"model: parameters {batched} are arrays; simulate one neuron per "
                         "call (jax.vmap it) or use scjax.simulate_batch for a batch")
    current = as_current(current)
    dtype = current.dtype
    solver = _check_run(model, current.shape[0], dt, t0, solver, save_every, check_step)
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


def _check_run(model, n_steps, dt, t0, solver, save_every, check_step,
               sample_models=None):
    """The checks shared by `simulate` and `simulate_batch`; returns the resolved solver."""
    check_dt(dt)
    check_finite_scalar("t0", t0)
    if not (isinstance(save_every, int) and save_every >= 1 and n_steps % save_every == 0):
        raise ValueError(
            f"save_every must be a positive int dividing the {n_steps} steps, "
            f"got {save_every!r}"
        )
    if solver is None:
        solver = model.solver()
    elif isinstance(solver, HalfEuler) and solver.fast_mask is None:
        solver = HalfEuler(fast_mask=model.fast_mask)
    if not isinstance(solver, diffrax.AbstractSolver):
        raise ValueError(f"solver must be a diffrax.AbstractSolver, got {type(solver).__name__}")
    for m in sample_models or (model,):
        _check_discrete_time_model(m, solver, dt)
        if check_step:
            _check_linearly_implicit_step(m, solver, dt)
    return solver


def simulate_batch(
    model: AbstractNeuronModel,
    current,
    dt: ScalarLike,
    *,
    solver: diffrax.AbstractSolver | None = None,
    y0=None,
    key: Key | None = None,
    t0: ScalarLike = 0.0,
    throw: bool = True,
    surrogate=None,
    save_every: int = 1,
    check_step: bool = True,
) -> Trajectory:
    """`jax.vmap(simulate)` for a batch of neurons, with a state-major carry.

    Same loop and same results as vmapping `simulate` (tested to be identical), but the carry
    is laid out `[n_state, B]`, so each state component is one contiguous vector: about 1.9×
    the CPU throughput of `jax.vmap(simulate)` on a batch of 1000 HH neurons, level with a
    hand-written state-major kernel (`experiments/profile_loop_overhead.py`). Use it for
    large batches.

    Arguments (as `simulate`, except):
        model: a model whose parameter fields are scalars (shared) or 1-D arrays of length B
            (one value per neuron), e.g. `HodgkinHuxley(g_na=jnp.linspace(100, 140, B))`.
        current: `[T]` (shared) or `[B, T]`.
        y0: None (each neuron's `initial_state()`) or `[B, n_state]`.
        key: with `noise_std > 0`, independent noise per neuron and sample.

    Returns:
        A `Trajectory` with a leading batch axis: `t [B, T+1]`, `y [B, T+1, n_state]`,
        `spikes [B, T]`, `diverged [B]`.
    """
    surrogate = surrogate_from_name(surrogate)
    if not isinstance(model, AbstractNeuronModel):
        raise ValueError(f"model must be a scjax model, got {type(model).__name__}")
    leaves = jax.tree.leaves(model)
    sizes = {np.shape(x)[0] for x in leaves if np.ndim(x) == 1}
    if any(np.ndim(x) > 1 for x in leaves) or len(sizes) > 1:
        raise ValueError("model: parameter fields must be scalars or 1-D arrays of one common "
                         f"length B, got shapes {[np.shape(x) for x in leaves]}")
    current_arr = np.asarray(current) if is_concrete(current) else current
    if current_arr.ndim == 2:
        sizes.add(current_arr.shape[0])
    if y0 is not None:
        sizes.add(np.shape(y0)[0])
    if len(sizes) != 1:
        raise ValueError(f"model, current and y0 must agree on one batch size B, got {sizes}")
    (batch,) = sizes
    if current_arr.ndim == 2:
        rows = [as_current(row) for row in current] if is_concrete(current) else None
        current = jnp.stack(rows) if rows is not None else current
    else:
        current = as_current(current)
    dtype = current.dtype
    model_axes = jax.tree.map(lambda x: 0 if np.ndim(x) == 1 else None, model)
    index = lambda i: jax.tree.map(  # noqa: E731
        lambda x, a: x if a is None else x[i], model, model_axes)
    # The upstroke/discrete-time checks look at up to 16 neurons spread over the batch.
    sample = [index(int(i)) for i in np.unique(np.linspace(0, batch - 1, 16).astype(int))]
    solver = _check_run(model, current.shape[-1], dt, t0, solver, save_every, check_step,
                        sample_models=sample)
    if y0 is None:
        y0 = jax.vmap(lambda m: m.initial_state(), in_axes=(model_axes,))(model)
        y0 = jnp.broadcast_to(y0, (batch, model.n_state))
    elif is_concrete(y0):
        y0_np = np.asarray(y0)
        if y0_np.shape != (batch, model.n_state) or not np.all(np.isfinite(y0_np)):
            raise ValueError(f"y0 must be finite with shape ({batch}, {model.n_state}), "
                             f"got shape {y0_np.shape}")
    noise_std = jnp.asarray(model.noise_std)
    if key is None:
        if is_concrete(noise_std) and np.any(np.asarray(noise_std) != 0.0):
            raise ValueError("key is None but model.noise_std > 0: pass key=jax.random.key(seed)")
    else:
        noise = jax.random.normal(key, (batch, current.shape[-1]), dtype)
        current = current + jnp.reshape(noise_std, (-1, 1)) * noise
    model = jax.tree.map(lambda p: jnp.asarray(p, dtype), model)
    return _run(model, solver, current, jnp.asarray(dt, dtype), jnp.asarray(y0, dtype),
                jnp.asarray(t0, dtype), throw, surrogate, save_every, model_axes)


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
def _run(model, solver, current, dt, y0, t0, throw: bool, surrogate, save_every: int,
         model_axes=None) -> Trajectory:
    """The loop. With `model_axes` (a pytree of 0/None over `model`'s leaves) it integrates a
    batch: `y0` is `[B, n_state]`, `current` `[T]` or `[B, T]`, and the carry is kept
    state-major (`[n_state, B]`) so every state component is one contiguous vector."""
    # Traced inputs could not be checked at the boundary; check them now, before the loop.
    current = eqx.error_if(current, ~jnp.all(jnp.isfinite(current)), "current must be finite")
    dt = eqx.error_if(dt, ~(jnp.isfinite(dt) & (dt > 0)), "dt must be positive and finite")
    n_steps = current.shape[-1]
    n_saved = n_steps // save_every
    ts = t0 + dt * jnp.arange(n_steps + 1, dtype=current.dtype)

    def one_step(model, y, t_n, i_n):
        term = _StepTerm(model, dt)
        y_next, _, _, _, _ = solver.step(term, t_n, t_n + dt, y, i_n, None, False)
        return model.spike_and_reset(y, y_next, surrogate)

    batched = model_axes is not None
    if batched:
        current_axis = 0 if current.ndim == 2 else None
        one_step = jax.vmap(one_step, in_axes=(model_axes, 1, None, current_axis),
                            out_axes=(1, 0))
        y0 = y0.T
        current = current.T if current.ndim == 2 else current

    # prevent_cse=False: scan already keeps the rematerialised step from being CSE'd, and
    # the default optimisation barrier costs ~20 % of forward throughput.
    @functools.partial(jax.checkpoint, prevent_cse=False)
    def step(y, inputs):
        t_n, i_n = inputs
        return one_step(model, y, t_n, i_n)

    def chunk(y, inputs):
        y, spikes = jax.lax.scan(step, y, inputs)
        return y, (y, spikes)

    # Outer scan over saved samples, inner scan over the steps between them.
    inputs = (ts[:-1].reshape(n_saved, save_every),
              current.reshape(n_saved, save_every, *current.shape[1:]))
    _, (ys, spike_signal) = jax.lax.scan(chunk, y0, inputs)
    ys = jnp.concatenate([y0[None], ys], axis=0)
    spike_signal = spike_signal.reshape(n_steps, *spike_signal.shape[2:])
    ts = ts[::save_every]
    if batched:  # back to the batch-major schema of jax.vmap(simulate)
        ys = jnp.moveaxis(ys, 2, 0)
        spike_signal = spike_signal.T
        ts = jnp.broadcast_to(ts, (ys.shape[0], ts.shape[0]))
    # Without a surrogate the loop carries booleans (1 byte per neuron-step, not 8): large
    # batches keep their spike rasters on the device.
    spikes = spike_signal if surrogate is None else spike_signal > 0.5
    spike_signal = spike_signal.astype(ys.dtype)
    diverged = ~jnp.all(jnp.isfinite(ys), axis=(-2, -1))
    if throw:
        ys = eqx.error_if(
            ys, diverged,
            "the state became non-finite: dt is too large for this solver (try a smaller dt "
            "or integrator='rosenbrock'), or pass throw=False to inspect the trajectory",
        )
    return Trajectory(t=ts, y=ys, spikes=spikes, spike_signal=spike_signal,
                      state_names=model.state_names, diverged=diverged)
