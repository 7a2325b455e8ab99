"""The loop: one `jax.lax.scan` for every model, solver, stimulus and recording."""

import functools as ft
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from .._trajectory import Trajectory
from .._validation import is_concrete
from ..models import AbstractNeuronModel
from ..solvers import AbstractModelTerm
from ..stimulus import AbstractStimulus
from ._events import in_step_neuron_step, in_step_quiet_step, record_in_step
from ._expm1_substitution import with_expm1
from ._materialise import materialised, runtime_ones
from ._recording import Recording
from ._unstack import unstacked


class _StepTerm(AbstractModelTerm):
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


_DIVERGED = (
    "the state became non-finite: dt is too large for this solver (try a smaller dt "
    "or integrator='rosenbrock'), or pass throw=False to inspect the trajectory"
)


def one_neuron_step(
    solver, dt, surrogate, events, own_guard: bool = False, straight_line: bool = False
):
    """The step of one neuron, `(model, y [n_state], t_n, i_n) -> (y_next, spike)`: one step
    of `solver`, then the model's spike rule (or the in-step events of `events`, without
    control flow with `straight_line`: `_events.in_step_neuron_step`).

    A reset would hide an overflow to ±inf behind a finite reset value, so the candidate
    (before the reset) is checked: a non-finite candidate makes the kept state NaN in every
    component (the direct form), or with `own_guard` only in the components whose own
    candidate is not finite; the XLA loop then completes the rule (see `_healthy`)."""

    def step_then_reset(model, y, t_n, i_n):
        term = _StepTerm(model, dt)
        y_next, _, _, _, _ = solver.step(term, t_n, t_n + dt, y, i_n, None, False)
        y_kept, spike = model.spike_and_reset(y, y_next, surrogate)
        finite = jnp.isfinite(y_next) if own_guard else jnp.all(jnp.isfinite(y_next))
        return jnp.where(finite, y_kept, jnp.nan), spike

    if events is None:
        return step_then_reset
    # `spike` is then the step's spike-time offsets (see _events)
    return in_step_neuron_step(_sized_step(solver), dt, events, straight_line=straight_line)


def quiet_neuron_step(solver, dt, events):
    """`_events.in_step_quiet_step` of `one_neuron_step(solver, dt, None, events)`: its
    values where nothing crosses, and whether something does."""
    return in_step_quiet_step(_sized_step(solver), dt, events)


def _sized_step(solver):
    """`(model, y, t, h, current) -> y_next`: one step of `solver` of size h from (t, y)."""

    def sized_step(model, y, t, h, i):
        return solver.step(_StepTerm(model, h), t, t + h, y, i, None, False)[0]

    return sized_step


def components_step(neuron_step, n_state: int, model_axes, current_axis):
    """`neuron_step` vmapped over a batch whose state is a tuple of `n_state` vectors `[B]`:
    `(model, components, t_n, i_n) -> (components_next, spike [B])`.

    The carry is a tuple of per-component vectors: XLA then keeps each component contiguous
    instead of laying a `[n_state, B]` carry out interleaved, and the stack / unstack around
    the model's 1-D state folds away (slice of concatenate; see `_unstack`).
    """

    def reordered(model, t_n, i_n, y):
        return neuron_step(model, y, t_n, i_n)

    unstacked_step = unstacked(reordered, n_state)

    def components_neuron_step(model, components, t_n, i_n):
        return unstacked_step(model, t_n, i_n, components)

    return jax.vmap(components_neuron_step, in_axes=(model_axes, 0, None, current_axis))


#: Whether the batched step on XLA's CPU backend computes its shared intermediates once
#: (`_materialise`); a switch for experiments/loop_speed_ideas.py, which times both.
SHARED_ONCE_ON_CPU = True


def shared_computed_once(step, ones: jax.Array):
    """The batched `step(model, components, t_n, i_n)` with every intermediate of the
    batch's shape that several outputs share computed once (`_materialise.materialised`),
    dividing by `ones [B]` (`runtime_ones`)."""
    computed_once = materialised(step, ones.shape)

    def wrapped(model, components, t_n, i_n):
        return computed_once(ones, model, components, t_n, i_n)

    return wrapped


def stimulus_sampler(dt, batch: int | None, stimulus_axes, with_keys: bool):
    """`(init(stimulus, keys), sample(stimulus, state, n, t_n))` of a stimulus sampled
    inside the loop, vmapped over the `batch` neurons (keys `[B]`) when batch is given."""
    sample = lambda s, state, n, t: s.sample(n, t, dt, state)  # noqa: E731
    init = lambda s, k: s.init(k, dt)  # noqa: E731
    if batch is not None:
        key_axis = 0 if with_keys else None
        init = jax.vmap(init, in_axes=(stimulus_axes, key_axis), axis_size=batch)
        sample = jax.vmap(sample, in_axes=(stimulus_axes, 0, None, None), axis_size=batch)
    return init, sample


def initial_stimulus_state(stimulus, stimulus_axes, dt, key, batch: int | None):
    """The stimulus's state before step 0: of one neuron (batch None) from `key`, else of
    each of the `batch` neurons (leaves `[B, ...]`), neuron i's from `split(key, B)[i]`."""
    keys = key
    if batch is not None:
        keys = None if key is None else jax.random.split(key, batch)
    init, _ = stimulus_sampler(dt, batch, stimulus_axes, keys is not None)
    return init(stimulus, keys)


def checked_drive(current, dt):
    """Traced inputs could not be checked at the boundary; check them inside the program."""
    if current is not None:
        current = eqx.error_if(current, ~jnp.all(jnp.isfinite(current)), "current must be finite")
    dt = eqx.error_if(dt, ~(jnp.isfinite(dt) & (dt > 0)), "dt must be positive and finite")
    return current, dt


def time_grid(t0, dt, n_steps: int, dtype):
    """The sample times t_n = t0 + n·dt, n = 0 … n_steps."""
    return t0 + dt * jnp.arange(n_steps + 1, dtype=dtype)


#: Per-program XLA options of the compiled loop on CPU (never global configuration). The
#: per-step fusions are chains of dependent elementwise operations; with LLVM told to prefer
#: 512-bit vectors (two 256-bit AVX2 registers per operation where the CPU has no AVX-512)
#: each loop iteration carries twice as many independent chains, which hides the latency of
#: the chain: Izhikevich 2003 at N = 10⁴ runs 1.8× faster in float64 (2-core Zen 1; the
#: same instructions on the same values, so the same results bit for bit, tested;
#: experiments/results/loop_speed_ideas.json). It applies when the loop is compiled as its
#: own program (`simulate`, `simulate_batch` called on values); under a transformation
#: (`jax.jit`, `vmap`, `grad`) the loop is staged into the transformed program, whose
#: options apply (JAX refuses options on a nested jit).
CPU_COMPILER_OPTIONS: dict[str, object] = {"xla_cpu_prefer_vector_width": 512}


@ft.cache
def compiled_for_backend(fn, backend: str | None):
    """`eqx.filter_jit(fn)` with the per-program options of `backend` (None: none)."""
    # jax.jit's keyword, passed through filter_jit's **jitkwargs (not in its typed overloads).
    jit_kwargs: dict[str, Any] = {
        "compiler_options": CPU_COMPILER_OPTIONS if backend == "cpu" else None
    }
    return eqx.filter_jit(fn, **jit_kwargs)


def call_compiled(fn, *args, **kwargs):
    """`fn(*args, **kwargs)` compiled with the default backend's options
    (`CPU_COMPILER_OPTIONS`) when called on values, else without (staged into the program
    being transformed)."""
    backend = None if staged(args, kwargs) else jax.default_backend()
    return compiled_for_backend(fn, backend)(*args, **kwargs)


def staged(*trees) -> bool:
    """Whether the loop is being staged into a transformed program: a traced leaf of `trees`
    (vmap, grad, jit) or a traced constant (jit over closed-over values)."""
    return not all(map(is_concrete, jax.tree.leaves(trees))) or not is_concrete(jnp.zeros(()))


def run_loop(*args, **kwargs) -> Trajectory:
    """`run_loop_uncompiled`, compiled (`call_compiled`)."""
    return call_compiled(run_loop_uncompiled, *args, **kwargs)


def run_loop_uncompiled(
    model,
    solver,
    drive,
    dt,
    y0,
    t0,
    key,
    n_steps: int,
    recording: Recording,
    throw: bool,
    surrogate,
    model_axes=None,
    stimulus_axes=None,
    events=None,
    expm1: str = "xla",
) -> Trajectory:
    """Integrate `n_steps` fixed steps.

    `drive` is a dense current (`[T]`, or `[B, T]` for a batch), scanned over as the loop's
    input, or an `AbstractStimulus` sampled inside the loop. With `model_axes` (a pytree of
    0/None over `model`'s leaves) the run is a batch: `y0` is `[B, n_state]` and the carry is
    kept state-major (`[n_state, B]`) so every state component is one contiguous vector.
    `events` is None (spikes and resets at the step's end) or a `_events.InStepEvents`.
    `expm1` names the implementation of the step's `expm1` (`_expm1_substitution`).
    """
    dtype = y0.dtype
    batched = model_axes is not None
    batch = y0.shape[0] if batched else None
    if isinstance(drive, AbstractStimulus):
        stimulus, current = drive, None
    else:
        stimulus, current = None, drive
    current, dt = checked_drive(current, dt)
    save_every = recording.save_every
    n_saved = n_steps // save_every
    ts = time_grid(t0, dt, n_steps, dtype)
    want_times = recording.spikes == "times"
    capacity = recording.max_spikes

    neuron_step = one_neuron_step(solver, dt, surrogate, events, own_guard=True)

    sample = None
    if stimulus is not None:
        stimulus_state = initial_stimulus_state(stimulus, stimulus_axes, dt, key, batch)
        _, sample = stimulus_sampler(dt, batch, stimulus_axes, key is not None)
    else:
        stimulus_state = None

    if batched:
        current_axis = 0 if (current is None or current.ndim == 2) else None
        neuron_step = components_step(neuron_step, model.n_state, model_axes, current_axis)
    if events is None:
        neuron_step = guarded(neuron_step)
    if batched:
        if SHARED_ONCE_ON_CPU and jax.default_backend() == "cpu":
            neuron_step = shared_computed_once(neuron_step, runtime_ones(y0[:, 0]))
        y0_carry = tuple(y0.T)
        if current is not None and current.ndim == 2:
            current = current.T
    else:
        y0_carry = y0
    # Last, so the rewrites above see XLA's expm1 (one primitive).
    neuron_step = with_expm1(neuron_step, expm1)

    # prevent_cse=False: scan already keeps the rematerialised step from being CSE'd, and
    # the default optimisation barrier costs ~20 % of forward throughput.
    neuron_step = jax.checkpoint(neuron_step, prevent_cse=False)

    counts_shape = (batch,) if batched else ()
    lanes = jnp.arange(batch) if batched else None

    def step(carry, xs):
        y, stim_state, n_spikes, signal_count, buffer = carry
        if stimulus is not None:
            assert sample is not None  # set with the stimulus
            n, t_n, t_next = xs
            i_n, stim_state = sample(stimulus, stim_state, n, t_n)
        else:
            t_n, t_next, i_n = xs
        if events is not None:  # its neuron step keeps the direct guard (all components NaN)
            y, spike = neuron_step(model, y, t_n, i_n)
            n_spikes, buffer, spiked = record_in_step(spike, t_n, n_spikes, buffer, lanes)
            raster = spiked if recording.spikes == "raster" else None
            return (y, stim_state, n_spikes, signal_count, buffer), raster
        y, spike, healthy = neuron_step(model, y, t_n, i_n)
        if surrogate is None:
            # Plain systems report their (absent) spikes as 0.0 in the state's dtype.
            spike = spike.astype(bool) & healthy
            fired = spike
        else:
            spike = jnp.where(healthy, spike, jnp.zeros_like(spike))
            fired = spike > 0.5
            signal_count = signal_count + spike
        if want_times:
            slot = jnp.where(fired, n_spikes, capacity)  # slot == capacity is dropped
            index = (slot, lanes) if batched else slot
            buffer = buffer.at[index].set(t_next, mode="drop")
        n_spikes = n_spikes + fired.astype(jnp.int32)
        raster = spike if recording.spikes == "raster" else None
        return (y, stim_state, n_spikes, signal_count, buffer), raster

    def chunk(carry, xs):
        carry, raster = jax.lax.scan(step, carry, xs)
        return carry, (recorded_states(_nan_if_unhealthy(carry[0]), recording, batched), raster)

    def by_chunk(x):
        return x.reshape(n_saved, save_every, *x.shape[1:])

    if stimulus is not None:
        xs = (jnp.arange(n_steps, dtype=jnp.int32), ts[:-1], ts[1:])
    else:
        xs = (ts[:-1], ts[1:], current)
    xs = jax.tree.map(by_chunk, xs)
    buffer = jnp.full((capacity, *counts_shape), jnp.inf, dtype) if want_times else None
    carry0 = (
        y0_carry,
        stimulus_state,
        jnp.zeros(counts_shape, jnp.int32),
        jnp.zeros(counts_shape, dtype) if surrogate is not None else None,
        buffer,
    )
    (y_final, _, n_spikes, signal_count, buffer), (ys, raster) = jax.lax.scan(chunk, carry0, xs)

    y0_recorded = recorded_states(_nan_if_unhealthy(y0_carry), recording, batched)
    ys = jnp.concatenate([y0_recorded[None], ys], axis=0)
    ts = ts[::save_every]
    if raster is not None:
        raster = raster.reshape(n_steps, *raster.shape[2:])
    return loop_trajectory(
        model,
        recording,
        ts,
        ys,
        y_final,
        raster=raster,
        n_spikes=n_spikes,
        signal_count=signal_count,
        buffer=buffer,
        throw=throw,
        batched=batched,
        surrogate=surrogate,
    )


# The divergence guard of the XLA loop. A non-finite candidate state makes that neuron's state
# NaN from then on and stops its spikes; the candidate is checked before the reset, which
# would hide an overflow to ±inf behind a finite reset value. The direct form,
# `where(all(isfinite(y_next)), y_kept, nan)`, makes every component's output depend on every
# other component's candidate: on XLA's CPU backend, where each output of the step is a
# separate fusion that recomputes what it reads, that cost ~25 % of an Izhikevich batch in
# float64. Here each component is guarded by its own candidate only (NaN where it is not
# finite), and a NaN anywhere in the state counts for the whole neuron a step later: the
# step's `offset` is 0 where the state it starts from has no NaN and NaN where it has one;
# that step's spikes are dropped where it is NaN and every component it returns is
# `y_next − offset` (exact: x − 0 = x for every x, −0 included), so NaN in every component
# from then on, and every state the run returns (`y` at each save, the final state behind
# `diverged`) is NaN in every component. What the run returns is therefore what the direct
# form returns (tests/test_simulate_batch.py against a NumPy transcription of the direct
# rule; bit for bit against the direct form's loop without FMA). The offset is part of the
# step `_materialise` rewrites: where it computes the step's shared values once (CPU), the
# offset is one of them, so the spike count no longer reads the old state after the new
# one is written and XLA stops copying the carry every step (two copies an Izhikevich
# step, ~20 %; tests/test_materialise.py). A sticky flag in the carry was measured too (in
# the sign of the count): its extra integer work tipped the count's fusion over XLA's
# threshold for splitting it over the cores, which then collapses under contention
# (experiments/loop_speed_ideas.py). The offset is float32 in a float64 run: it only holds
# 0 or NaN, which convert exactly, and computing it once costs a division per neuron,
# which is 4× cheaper in float32 with AVX-512 (Izhikevich f64 on one core: the offset's
# fusion 7.1 → 2.6 µs per step of 10⁴ neurons, the loop 507 → 715 M neuron-steps/s).


#: Whether a float64 run's offset is float32 (see above); a switch for
#: experiments/loop_speed_ideas.py, which times both.
FLOAT32_OFFSET_IN_FLOAT64 = True


def guarded(neuron_step):
    """`step(model, y, t_n, i_n) -> (y_next, spike)` → `(y_next − offset, spike, healthy)`:
    the divergence guard's second half (see above; `y` as in `_healthy`)."""

    def guarded_step(model, y, t_n, i_n):
        healthy = _healthy(y)
        dtype = (y[0] if isinstance(y, tuple) else y).dtype
        narrow = FLOAT32_OFFSET_IN_FLOAT64 and dtype == jnp.float64
        offset_dtype = jnp.float32 if narrow else dtype
        offset = jnp.where(healthy, jnp.zeros((), offset_dtype), jnp.asarray(jnp.nan, offset_dtype))
        y_next, spike = neuron_step(model, y, t_n, i_n)
        if isinstance(y_next, tuple):
            parts = tuple(part - offset.astype(part.dtype) for part in y_next)
            return parts, spike, ~jnp.isnan(offset)
        return y_next - offset.astype(y_next.dtype), spike, ~jnp.isnan(offset)

    return guarded_step


def raise_if_diverged(ys: jax.Array, diverged: jax.Array) -> jax.Array:
    """`ys`, with the run's divergence error raised where any neuron `diverged`."""
    # Threaded through a scalar (ys · 1 is exact), not onto ys itself: error_if's cond would
    # replicate (all-gather) a batch-sharded ys onto every device.
    return ys * eqx.error_if(jnp.ones((), ys.dtype), diverged, _DIVERGED)


def _healthy(y):
    """True where no component of the neuron's state is NaN. `y` is the batched carry (a
    tuple of `[B]` components) or one neuron's `[n_state]` state."""
    if isinstance(y, tuple):
        nan = jnp.isnan(y[0])
        for part in y[1:]:
            nan = nan | jnp.isnan(part)
        return ~nan
    return ~jnp.any(jnp.isnan(y))


def _nan_if_unhealthy(y):
    """The state with every component NaN where any is (`y` as in `_healthy`)."""
    healthy = _healthy(y)
    if isinstance(y, tuple):
        return tuple(jnp.where(healthy, part, jnp.nan) for part in y)
    return jnp.where(healthy, y, jnp.nan)


def recorded_states(y, recording: Recording, batched: bool) -> jax.Array:
    """The recorded columns of a state: `[n_rec, B]` from a batch's components, else `[n_rec]`."""
    indices = recording.state_indices
    if batched:
        return jnp.stack([y[i] for i in indices])
    if indices == tuple(range(len(y))):
        return y
    return y[jnp.asarray(indices)]


def loop_trajectory(
    model,
    recording: Recording,
    ts,
    ys,
    y_final,
    *,
    raster,
    n_spikes,
    signal_count,
    buffer,
    throw: bool,
    batched: bool,
    surrogate,
) -> Trajectory:
    """The `Trajectory` of a fixed-step loop from what it computed: the saved times
    `ts [T/save_every + 1]` and states `ys [T/save_every + 1, n_rec(, B)]`, the final state (a
    batch's components), the raster `[T(, B)]` or None, the counters and the `"times"`
    buffer `[K(, B)]` or None."""
    if batched:  # back to the batch-major schema of jax.vmap(simulate)
        ys = jnp.moveaxis(ys, 2, 0)
        ts = jnp.broadcast_to(ts, (ys.shape[0], ts.shape[0]))
        raster = None if raster is None else raster.T
        buffer = None if buffer is None else buffer.T
    if isinstance(y_final, tuple):  # the batched carry: one vector per component
        y_final = jnp.stack(y_final)
    diverged = ~jnp.all(jnp.isfinite(y_final), axis=0)
    if throw:
        ys = raise_if_diverged(ys, diverged)
    if surrogate is None:
        spikes, spike_signal, spike_count = raster, None, n_spikes
    else:
        spikes = None if raster is None else raster > 0.5
        spike_signal, spike_count = raster, signal_count
    names = tuple(model.state_names[i] for i in recording.state_indices)
    want_times = recording.spikes == "times"
    return Trajectory(
        t=ts,
        y=ys,
        spikes=spikes,
        spike_signal=spike_signal,
        state_names=names,
        diverged=diverged,
        spike_count=spike_count,
        spike_time_buffer=buffer,
        spike_overflow=(n_spikes > recording.max_spikes) if want_times else None,
    )
