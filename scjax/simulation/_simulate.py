"""`simulate` and `simulate_batch`: the checked fronts of the one loop (`_loop.run_loop`)."""

import functools as ft

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec, auto_axes

from .._custom_types import CurrentTrace, Key, ScalarLike, State
from .._sharding import explicit_batch_axes
from .._surrogate import surrogate_from_name
from .._trajectory import Trajectory
from .._validation import is_concrete
from ..models import AbstractNeuronModel
from ..stimulus import AbstractStimulus
from ._blocked import BlockedLoop, batch_device_count, run_blocked_loop
from ._checks import (
    check_dense_current,
    check_model,
    check_solver_for_models,
    check_time_grid,
    check_y0,
    n_steps_of,
)
from ._chunked import simulate_chunked
from ._events import InStepEvents, check_events_for_model, events_from_argument
from ._expm1_substitution import check_expm1
from ._loop import run_loop, staged
from ._loop_options import loop_from_argument
from ._pallas import (
    PallasLoop,
    pallas_lowers,
    pallas_refusal,
    run_differentiable_pallas_loop,
)
from ._recording import make_recording
from ._solver import resolve_solver

#: How many neurons of a batch the eager model checks (upstroke, discrete dt) look at.
_CHECKED_NEURONS = 16


def simulate(
    model: AbstractNeuronModel,
    current: CurrentTrace | AbstractStimulus,
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
    n_steps: int | None = None,
    spikes: str = "raster",
    record=None,
    max_spikes: int = 64,
    events: str | InStepEvents = "end_of_step",
    expm1: str = "xla",
) -> Trajectory:
    """Integrate `model` over a piecewise-constant current with a fixed step.

    Sample n of the current holds over [t0 + n·dt, t0 + (n+1)·dt); each sample is one step of
    `solver`, followed by the model's spike rule (threshold + reset, or upward crossing).

    Arguments:
        model: any `scjax.models.AbstractNeuronModel` with scalar parameters.
        current: a `[T]` float array (one sample per step; its float dtype is the dtype of the
            run: float64 for parity, float32 for throughput), or a `scjax.stimulus` object
            evaluated inside the loop (then give `n_steps`; the run's dtype is that of its
            parameters).
        dt: step in ms, a positive finite scalar.
        solver: a `diffrax.AbstractSolver`; None means the model's own `integrator`.
            A `HalfEuler()` without `fast_mask` gets the model's.
        y0: initial state `[n_state]`; None means `model.initial_state()`.
        key: PRNG key for the model's current noise (required when `model.noise_std > 0`)
            and for stochastic stimuli. Model noise is one Gaussian draw of standard
            deviation `noise_std` per current sample, as in Izhikevich (2003) (not scaled by
            √dt).
        t0: time of the first sample, ms.
        throw: if True (default), a non-finite state (also one a reset made finite again)
            raises at run time (`eqx.error_if`); if False the trajectory is returned with
            `diverged=True`.
        surrogate: None (the threshold has zero derivative), `"sigmoid"`, `"fast_sigmoid"`,
            or a `scjax.AbstractSurrogate`: gradients then cross the threshold and reset
            through the surrogate derivative (forward values are unchanged).
        save_every: keep the state every `save_every` steps only (T must be a multiple);
            `y` then has shape `[T/save_every + 1, n_rec]`, `t` likewise. `save_every=T`
            keeps the initial and final states only.
        check_step: refuse (`ValueError`) a Rosenbrock step too large for the model's spike
            upstroke, where the step stalls or reverses and spikes are silently lost (see
            `docs/conventions.md`). Set False for runs that cannot spike (sub-threshold).
        n_steps: the number of steps; required with a stimulus object that has no length.
        spikes: `"raster"` (default: `spikes [T]` bool), `"count"` (only `spike_count`:
            memory independent of T) or `"times"` (`spike_time_buffer [max_spikes]`, the
            end-of-step time of each spike, +inf padded, and `spike_overflow`).
        record: the state names kept in `y` (default: all), e.g. `record=("v",)`.
        max_spikes: the capacity of the `"times"` buffer.
        events: `"end_of_step"` (default, the historical rule: a resetting model fires and
            resets at the end of the step that crossed, so spike times are first-order in
            dt) or `"in_step"`: the crossing is located inside the step on the solver's own
            continuous extension, the reset applied there and the rest of the step
            integrated, so spike times (`spikes="times"`) keep the solver's order and are
            differentiable (exactly, without a surrogate; `surrogate` must be None). A
            `scjax.simulation.InStepEvents` sets its options. See `docs/accuracy.md`.
        expm1: `"xla"` (default: `jnp.expm1` as XLA evaluates it, the historical results)
            or `"polynomial"`: every `expm1` of the step (Hodgkin–Huxley's α_m and α_n) is
            evaluated by `scjax`'s branch-free polynomial (within 2 ulp), which XLA's CPU
            backend runs faster than its own. Results differ from the default's in the last
            bits. See `docs/guides/scale.md`.

    Returns:
        A `scjax.Trajectory` (`t [T+1]`, `y [T+1, n_rec]`, `spikes [T]`, `spike_count`, ...).

    Batch with `scjax.simulate_batch` (or `jax.vmap`); differentiate with `jax.grad` (each
    step is `jax.checkpoint`-ed, so memory holds one state per step, not the solver's
    internals).
    """
    check_model(model)
    batched = [name for name in model.param_names if np.ndim(getattr(model, name)) > 0]
    if batched:
        raise ValueError(
            f"model: parameters {batched} are arrays; simulate one neuron per "
            "call (jax.vmap it) or use scjax.simulate_batch for a batch"
        )
    if isinstance(current, AbstractStimulus) and current.batch_size() is not None:
        raise ValueError(
            f"current: the stimulus has per-neuron parameters (B = "
            f"{current.batch_size()}); use scjax.simulate_batch"
        )
    return _simulate(
        model,
        current,
        dt,
        batch=None,
        model_axes=None,
        solver=solver,
        y0=y0,
        key=key,
        t0=t0,
        throw=throw,
        surrogate=surrogate,
        save_every=save_every,
        check_step=check_step,
        n_steps=n_steps,
        spikes=spikes,
        record=record,
        max_spikes=max_spikes,
        events=events,
        loop="xla",
        expm1=expm1,
    )


def simulate_batch(
    model: AbstractNeuronModel,
    current: CurrentTrace | AbstractStimulus,
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
    n_steps: int | None = None,
    spikes: str = "raster",
    record=None,
    max_spikes: int = 64,
    chunk_size: int | None = None,
    events: str | InStepEvents = "end_of_step",
    loop="xla",
    expm1: str = "xla",
) -> Trajectory:
    """`jax.vmap(simulate)` for a batch of B neurons, with a state-major carry.

    Same loop and same results as vmapping `simulate` (tested to be identical), but the carry
    is laid out `[n_state, B]`, so each state component is one contiguous vector. Use it for
    large batches; with `spikes="count"`, `save_every=T` and a stimulus object its memory is
    O(B·n_state), independent of the number of steps.

    Arguments (as `simulate`, except):
        model: a model whose parameter fields are scalars (shared) or 1-D arrays of length B
            (one value per neuron), e.g. `HodgkinHuxley(g_na=jnp.linspace(100, 140, B))`.
        current: `[T]` (shared), `[B, T]`, or a `scjax.stimulus` object whose parameters are
            scalars or `[B]` (e.g. `scjax.stimulus.Constant(jnp.linspace(5, 15, B))`).
        y0: None (each neuron's `initial_state()`) or `[B, n_state]`.
        key: with `noise_std > 0`, independent noise per neuron and sample; for a stochastic
            stimulus neuron i draws from `jax.random.split(key, B)[i]`.
        chunk_size: None (one run), or stream the batch `chunk_size` neurons at a time, each
            chunk sharded over all devices of all processes, with the same results bit for
            bit, gathered to host NumPy arrays (see `docs/distributed.md`).
        loop: `"xla"` (default: the `lax.scan` loop, one pass over the batch per step),
            `"blocked"` (the same loop on cache-sized blocks of each device's neurons, one
            block through every step at a time: for batches larger than the CPU's caches;
            the same results; `scjax.simulation.BlockedLoop` sets the block size),
            `"pallas"` (one Pallas kernel: each program advances a block of neurons through
            every step with its state in registers, one kernel per device of a batch
            sharded with `scjax.shard_batch`; forward only; spike counts, times and
            rasters, in-step events and noise from threefry keys inside the kernel;
            derivatives are the XLA loop's; a `ValueError` names
            what it cannot run), `"auto"` (`"pallas"`
            on a GPU backend where the configuration is supported and the kernel compiles;
            `"blocked"` on a CPU backend when called on values, as it never ran slower
            there; else `"xla"`), or a `scjax.simulation.PallasLoop` with its options. See
            `docs/guides/pallas.md`.
        expm1: as `simulate` (`"polynomial"` runs on the `"xla"` and `"blocked"` loops;
            `loop="auto"` then takes one of them).

    B is the common length of the per-neuron parameters, the current's rows, the stimulus's
    `[B]` parameters and `y0`; at least one of them must give it.

    Returns:
        A `Trajectory` with a leading batch axis: `t [B, T+1]`, `y [B, T+1, n_rec]`,
        `spikes [B, T]`, `spike_count [B]`, `diverged [B]`.
    """
    check_model(model)
    leaves = jax.tree.leaves(model)
    if any(np.ndim(x) > 1 for x in leaves):
        raise ValueError(
            "model: parameter fields must be scalars or 1-D arrays of length B, "
            f"got shapes {[np.shape(x) for x in leaves if np.ndim(x) > 1]}"
        )
    sizes = {"model": {np.shape(x)[0] for x in leaves if np.ndim(x) == 1}}
    if isinstance(current, AbstractStimulus):
        sizes["current"] = {current.batch_size()} - {None}
    elif np.ndim(current) == 2:
        sizes["current"] = {np.shape(current)[0]}
    if y0 is not None and np.ndim(y0) == 2:
        sizes["y0"] = {np.shape(y0)[0]}
    found = set().union(*sizes.values())
    if len(found) != 1:
        detail = ", ".join(f"{k}: {sorted(v)}" for k, v in sizes.items() if v)
        raise ValueError(
            "model, current and y0 must agree on one batch size B"
            + (
                f", got {detail}"
                if detail
                else ": none of them has a batch "
                "axis (give per-neuron parameters, a [B, T] current, a stimulus "
                "with [B] parameters or y0 [B, n_state])"
            )
        )
    (batch,) = found
    options = dict(
        solver=solver,
        y0=y0,
        key=key,
        t0=t0,
        throw=throw,
        surrogate=surrogate,
        save_every=save_every,
        check_step=check_step,
        n_steps=n_steps,
        spikes=spikes,
        record=record,
        max_spikes=max_spikes,
        events=events,
        loop=loop,
        expm1=expm1,
    )
    if chunk_size is not None:
        return simulate_chunked(model, current, dt, batch=batch, chunk_size=chunk_size, **options)
    model_axes = jax.tree.map(lambda x: 0 if np.ndim(x) == 1 else None, model)
    explicit = explicit_batch_axes((model, current, y0))
    if explicit is not None:
        # Sharding in types: the loop is written for automatic axes (XLA propagates the
        # batch sharding through it), so it runs with the batch's mesh axes automatic and
        # every output (all have the batch first) comes back split over them as it went in.
        mesh, axes = explicit

        def run(model, current, y0):
            placed = options | {"y0": y0}
            return _simulate(model, current, dt, batch=batch, model_axes=model_axes, **placed)

        split = auto_axes(run, out_sharding=PartitionSpec(axes))
        with jax.sharding.use_abstract_mesh(mesh):
            return split(model, current, y0)  # pyright: ignore[reportCallIssue] (wraps run)
    return _simulate(model, current, dt, batch=batch, model_axes=model_axes, **options)


def _simulate(
    model,
    current,
    dt,
    *,
    batch,
    model_axes,
    solver,
    y0,
    key,
    t0,
    throw,
    surrogate,
    save_every,
    check_step,
    n_steps,
    spikes,
    record,
    max_spikes,
    events,
    loop,
    expm1,
) -> Trajectory:
    """The checks and set-up shared by `simulate` (batch None) and `simulate_batch`."""
    loop = loop_from_argument(loop)
    check_expm1(expm1)
    batched = batch is not None
    if loop == "auto" and jax.default_backend() == "cpu":
        # The blocked loop needs the batch's devices, which a traced input hides.
        loop = BlockedLoop() if batched and not staged(model, current, y0) else "xla"
    if expm1 != "xla" and loop == "auto":
        loop = "xla"  # the Pallas kernel evaluates XLA's expm1 only
    if expm1 != "xla" and not (loop == "xla" or isinstance(loop, BlockedLoop)):
        raise ValueError(
            f"expm1={expm1!r} runs on the XLA loop only: pass loop='xla' or 'blocked' "
            f"(got loop={loop!r})"
        )
    surrogate = surrogate_from_name(surrogate)
    events = events_from_argument(events)
    check_events_for_model(events, model, surrogate)
    is_stimulus = isinstance(current, AbstractStimulus)
    if is_stimulus:
        dtype = _stimulus_dtype(current)
    else:
        current = check_dense_current(current, batched=batched)
        dtype = (
            current.dtype if jnp.issubdtype(current.dtype, jnp.floating) else jnp.result_type(float)
        )
    n_steps = n_steps_of(current, n_steps)
    check_time_grid(dt, t0, n_steps, dtype)
    recording = make_recording(model, n_steps, spikes, record, save_every, max_spikes)
    solver = resolve_solver(model, solver)
    check_solver_for_models(solver, dt, _sample_neurons(model, model_axes, batch), check_step)
    check_y0(y0, (batch, model.n_state) if batched else (model.n_state,), model)

    if is_stimulus:
        model, drive = _stimulus_drive(model, current, key, dtype)
        stimulus_axes, loop_key = drive.batch_axes(), key
    else:
        drive = _dense_drive(current, model.noise_std, key, batch, n_steps, dtype)
        stimulus_axes, loop_key = None, None

    if y0 is None:
        if batched:
            y0 = _batched_initial_state(model, model_axes, batch)
        else:
            y0 = model.initial_state()
    # Parameters become arrays of the run's dtype, so a new parameter value does not retrace.
    model = jax.tree.map(lambda p: jnp.asarray(p, dtype), model)
    dt, y0, t0 = (jnp.asarray(x, dtype) for x in (dt, y0, t0))
    pallas_args = (
        model,
        solver,
        drive,
        dt,
        y0,
        t0,
        loop_key,
        n_steps,
        recording,
        throw,
        model_axes,
    )
    pallas = _pallas_options(loop, pallas_args, events)
    if pallas is not None:
        return run_differentiable_pallas_loop(
            pallas_args, pallas, surrogate=surrogate, stimulus_axes=stimulus_axes, events=events
        )
    if isinstance(loop, BlockedLoop):
        run = ft.partial(run_blocked_loop, loop, batch_device_count(model, drive, y0))
    else:
        run = run_loop
    return run(
        model=model,
        solver=solver,
        drive=drive,
        dt=dt,
        y0=y0,
        t0=t0,
        key=loop_key,
        n_steps=n_steps,
        recording=recording,
        throw=throw,
        surrogate=surrogate,
        model_axes=model_axes,
        stimulus_axes=stimulus_axes,
        events=events,
        expm1=expm1,
    )


def _stimulus_drive(model, stimulus, key, dtype):
    """(model, the stimulus with its float parameters in `dtype`): a stimulus draws its own
    noise, so a model's `noise_std` must be 0 (checked at run time when traced)."""
    # The raw field: a Python or NumPy number stays concrete even under an outer jit.
    noise_std = model.noise_std
    if not is_concrete(noise_std):
        model = eqx.tree_at(
            lambda m: m.noise_std,
            model,
            eqx.error_if(
                jnp.asarray(model.noise_std),
                jnp.any(noise_std != 0),
                "model.noise_std > 0 needs a current array; add scjax.stimulus.WhiteNoise",
            ),
        )
    elif np.any(np.asarray(noise_std) != 0):
        raise ValueError(
            "model.noise_std > 0 needs a current array; with a stimulus "
            "object add scjax.stimulus.WhiteNoise to the stimulus instead"
        )
    if stimulus.is_stochastic and key is None:
        raise ValueError(
            f"key is None but the stimulus {type(stimulus).__name__} is "
            "stochastic: pass key=jax.random.key(seed)"
        )
    drive = jax.tree.map(
        lambda p: jnp.asarray(p, dtype) if jnp.issubdtype(jnp.result_type(p), jnp.floating) else p,
        stimulus,
    )
    return model, drive


def _dense_drive(current, noise_std, key, batch, n_steps: int, dtype):
    """The current array in `dtype`, plus the model's current noise `noise_std`·N(0, 1) per
    sample drawn with `key` (`[B, T]` for a batch)."""
    drive = jnp.asarray(current, dtype)
    if key is None:
        # noise_std is the raw field: a Python or NumPy number stays concrete under a jit.
        if is_concrete(noise_std) and bool(np.any(np.asarray(noise_std) != 0)):
            raise ValueError(
                f"key is None but model.noise_std = {np.asarray(noise_std).tolist()}: pass "
                "key=jax.random.key(seed) to draw the current noise reproducibly"
            )
        return drive
    batched = batch is not None
    shape = (batch, n_steps) if batched else (n_steps,)
    noise = jax.random.normal(key, shape, dtype)
    std = jnp.reshape(jnp.asarray(noise_std), (-1, 1)) if batched else noise_std
    return drive + std * noise


def _pallas_options(loop, pallas_args, events) -> PallasLoop | None:
    """The options of the Pallas kernel when the run takes it, else None (the XLA scan):
    `loop="pallas"` (or a `PallasLoop`) takes it or raises why it cannot; `"auto"` takes it
    when nothing refuses it, the backend is a GPU and the kernel lowers."""
    if loop == "xla" or isinstance(loop, BlockedLoop):
        return None
    options = loop if isinstance(loop, PallasLoop) else PallasLoop()
    refusal = pallas_refusal(*pallas_args, events=events, options=options)
    if loop == "auto":
        takes_it = (
            refusal is None
            and jax.default_backend() == "gpu"
            and pallas_lowers((*pallas_args, options, None, events))
        )
        return options if takes_it else None
    if refusal is not None:
        raise ValueError(refusal)
    return options


def _stimulus_dtype(stimulus):
    """The run's dtype for a stimulus: the result type of its float parameters (Python
    floats are weak: they follow the default float dtype)."""
    floats = [
        x for x in jax.tree.leaves(stimulus) if jnp.issubdtype(jnp.result_type(x), jnp.floating)
    ]
    return jnp.result_type(*floats) if floats else jnp.result_type(float)


def _batched_initial_state(model, model_axes, batch):
    """Each neuron's `initial_state()`, `[B, n_state]` (shared parameters: broadcast)."""
    if not jax.tree.leaves(model_axes):  # every parameter shared
        return jnp.broadcast_to(model.initial_state(), (batch, model.n_state))
    states = jax.vmap(lambda m: m.initial_state(), in_axes=(model_axes,))(model)
    return jnp.broadcast_to(states, (batch, model.n_state))


def _sample_neurons(model, model_axes, batch):
    """The model itself, or up to 16 neurons spread over a batch for the eager checks."""
    if batch is None:
        return (model,)
    picks = np.unique(np.linspace(0, batch - 1, _CHECKED_NEURONS).astype(int))

    def neuron(i):
        return jax.tree.map(lambda x, a: x if a is None else x[i], model, model_axes)

    return tuple(neuron(int(i)) for i in picks)
