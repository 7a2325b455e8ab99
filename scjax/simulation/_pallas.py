"""The time-blocked batched loop as one Pallas kernel (`simulate_batch(..., loop="pallas")`).

The XLA loop (`_loop.run_loop`) is a `lax.scan` whose body is one fused pass over the batch:
every step reads the state of all B neurons from device memory and writes it back, and on a
GPU every step is at least one kernel launch. Here the grid runs one program per block of
`block_size` neurons, and each program advances its neurons through *all* the steps with the
state held in registers, reading only the stimulus (its parameters once, a dense trace one
row per step) and writing the spike counts, the saved states and the final state:

    for each block b (the grid, in parallel):          state  y[b]  ← y0[b]  (registers)
        for k in 0 … T/save_every − 1:                 time blocks of save_every steps
            for n in k·save_every … (k+1)·save_every − 1:
                I_n ← stimulus(n, t_n)[b]              t_n = t0 + n·dt
                y[b], spike ← step(y[b], t_n, I_n)     the same one-neuron step as the XLA loop
                times[count[b], b] ← t_{n+1} where spike (spikes="times", the first K)
                raster[n, b] ← spike                     (spikes="raster")
                count[b] += spike
            ys[k, b] ← y[b]

Memory traffic per neuron is O(n_state) for the whole run instead of O(n_state · T), so the
loop is bound by arithmetic, not bandwidth or launches.

The step is *the XLA loop's own*: `_loop.one_neuron_step` (the solver's `step` on the model's
`vector_field`, then `spike_and_reset`) unstacked into components and vmapped over the
block's lanes (`_loop.components_step`), traced inside the kernel on `[block_size]` vectors;
stimuli are sampled by `_loop.stimulus_sampler`, their initial state (a noise stimulus's key
and value) computed outside the kernel as the XLA loop computes it and read per lane, and
their random numbers drawn with `stimulus._threefry` (JAX's threefry draws as elementwise
integer arithmetic). The same primitives run on the same values,
so on the CPU (Pallas interpret mode) the results equal the XLA loop's bit for bit
(tests/test_pallas_loop.py); compiled by Triton on a GPU they agree to rounding (libdevice's
exp, fused multiply-adds, float32 division as `div.full.f32`: experiments/gpu/offline_triton.py),
which can move a spike across a threshold by a step. With in-step events
(`events="in_step"`) the step is the XLA loop's in-step step traced without control flow
(`_events.in_step_neuron_step(straight_line=True)`: what vmap makes of its branches), and each
of a step's located spikes is recorded.

The kernel runs forward only; differentiated (`jax.grad`, `jax.jvp`, a surrogate's
derivative), the run is the XLA loop's, values and derivatives (`run_differentiable_pallas_loop`).
What the kernel cannot do is refused by `pallas_refusal` (a `ValueError` naming `loop`):
random numbers from keys that are not threefry keys,
a batch sharded other than along its first axis over a 1-D mesh, a Rosenbrock step with
its LU factorisation (`linear_solve="lu"`, the default; `"elimination"` runs) and any step
whose primitives are not elementwise. `loop="auto"` takes the
XLA loop in all those cases and off GPU backends.
"""

import dataclasses
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.custom_batching import custom_vmap
from jax.experimental import pallas as pl
from jax.experimental.custom_partitioning import (
    ArrayMapping,
    SdyShardingRule,
    custom_partitioning,
)
from jax.experimental.pallas import triton as plgpu
from jax.extend import core as jex_core
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .._sharding import is_key
from .._trajectory import Trajectory
from .._validation import is_concrete
from ..solvers import AbstractRosenbrockSolver
from ..stimulus import AbstractStimulus, Sampled, Sum
from ._chunked import PerNeuronKeys
from ._kernel_math import with_kernel_math
from ._loop import (
    checked_drive,
    components_step,
    initial_stimulus_state,
    loop_trajectory,
    one_neuron_step,
    quiet_neuron_step,
    recorded_states,
    run_loop,
    stimulus_sampler,
    time_grid,
)
from ._recording import Recording

#: Primitives a kernel may contain: elementwise arithmetic, the structural operations that
#: vmapping an unstacked step leaves, reads and writes of its blocks and the two loops (each
#: has a Pallas Triton lowering rule), with the integer and bit operations of
#: `stimulus._threefry`'s draws, and the PTX instructions of `PallasLoop(math="fast")`. A
#: step using anything else (a linear solve, a gather, a custom derivative rule, a
#: `jax.random` draw) is refused.
_KERNEL_PRIMITIVES = frozenset(
    """
    abs acos acosh add and asin asinh atan atan2 atanh broadcast_in_dim cbrt ceil clamp
    convert_element_type cos cosh div eq exp exp2 expm1 floor ge gt integer_pow iota is_finite
    le log log1p logistic lt max min mul ne neg nextafter not or pow rem reshape rsqrt
    select_n sign sin sinh sqrt square squeeze sub tan tanh xor add_any stop_gradient
    bitcast_convert_type erf_inv shift_left shift_right_logical
    get swap masked_swap scan while jit pjit closed_call elementwise_inline_asm_p cond
    reduce_max
""".split()
)


@dataclasses.dataclass(frozen=True)
class PallasLoop:
    """The static options of `simulate_batch(loop="pallas")` (pass an instance as `loop=` to
    change them).

    Attributes:
        block_size: neurons per kernel program (a power of two: Triton's tensors are). The
            batch is padded to a multiple of it by repeating its last neuron; the padding is
            dropped from the results. 128–1024 suit a GPU, at least 32·num_warps (a smaller
            block computes each neuron on several threads); tiny blocks keep interpret-mode
            tests fast.
        interpret: run the kernel in Pallas interpret mode (as ordinary XLA operations: any
            backend, slow, bit-exact to the XLA loop on the CPU). None: interpret on the CPU
            backend, compile (Triton) elsewhere.
        num_warps: Triton's warps per program (None: Triton's default).
        math: how the step's float32 `exp`, `expm1` and division are evaluated
            (`_kernel_math`): `"libdevice"` (default: libdevice's `expf`, `expm1f`,
            `div.full.f32`, the historical results) or `"fast"` (opt-in, as CUDA's
            `--use_fast_math`: `ex2.approx` of x·log₂e and `div.approx`, a few ulp each;
            expm1 a series for |x| < 1/2, the fast exp − 1 elsewhere; ≈ 40 % fewer
            instructions per Hodgkin–Huxley RK4 step). Float64 is unchanged either way.
    """

    block_size: int = 256
    interpret: bool | None = None
    num_warps: int | None = None
    math: str = "libdevice"


# --- what the kernel can run ----------------------------------------------------------------


def _stimulus_terms(stimulus: AbstractStimulus) -> list[AbstractStimulus]:
    if isinstance(stimulus, Sum):
        return [t for term in stimulus.terms for t in _stimulus_terms(term)]
    return [stimulus]


def _primitives(jaxpr) -> set[str]:
    """The primitive names of a jaxpr and of the jaxprs inside its equations (loop bodies,
    calls)."""
    names = set()
    for eqn in jaxpr.eqns:
        names.add(eqn.primitive.name)
        for param in eqn.params.values():
            for sub in param if isinstance(param, (tuple, list)) else (param,):
                if isinstance(sub, jex_core.ClosedJaxpr):
                    names |= _primitives(sub.jaxpr)
                elif isinstance(sub, jex_core.Jaxpr):
                    names |= _primitives(sub)
    return names


def _kernel_jaxprs(jaxpr):
    """The kernel jaxprs of the `pallas_call`s in a jaxpr (looking inside calls)."""
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "pallas_call":
            yield eqn.params["jaxpr"]
        for param in eqn.params.values():
            if isinstance(param, jex_core.ClosedJaxpr):
                yield from _kernel_jaxprs(param.jaxpr)


def _abstract(x):
    return jax.ShapeDtypeStruct(jnp.shape(x), jnp.result_type(x))


def pallas_refusal(
    model,
    solver,
    drive,
    dt,
    y0,
    t0,
    key,
    n_steps,
    recording,
    throw,
    model_axes,
    *,
    events,
    options,
) -> str | None:
    """Why the Pallas kernel cannot run this configuration (a sentence naming `loop`), or
    None when it can: decided from the options, then from the primitives of the kernel as
    `run_pallas_loop` traces it (abstractly: nothing runs), the same on every backend."""
    if isinstance(solver, AbstractRosenbrockSolver) and solver.linear_solve != "elimination":
        return (
            f"loop='pallas' runs a Rosenbrock step with linear_solve='elimination' only (an LU "
            "factorisation is a LAPACK/cuSOLVER call, not elementwise): pass "
            f"solver=scjax.solvers.{type(solver).__name__}(linear_solve='elimination'), "
            "equal to the default to rounding, or use loop='xla'"
        )
    leaves = jax.tree.leaves(model)
    if isinstance(drive, AbstractStimulus):
        state = jax.eval_shape(
            lambda d, k: initial_stimulus_state(d, d.batch_axes(), dt, k, y0.shape[0]), drive, key
        )
        odd_state = [x for x in jax.tree.leaves(state) if not _fits_a_lane(x)]
        if odd_state:
            return (
                "loop='pallas' draws random numbers from threefry keys only (jax.random.key, "
                f"JAX's default): the state of the stimulus {type(drive).__name__} holds "
                f"{[str(x.dtype) for x in odd_state]}; use loop='xla'"
            )
        params = _without_keys(drive)
        odd = [
            type(t).__name__
            for t in _stimulus_terms(params)
            if t.sample_rank != 0 and not isinstance(t, Sampled)
        ]
        if odd:
            return f"loop='pallas' cannot read the stimulus terms {odd}; use loop='xla'"
        leaves += jax.tree.leaves(params)
    if not all(jnp.issubdtype(jnp.result_type(x), jnp.floating) for x in leaves):
        return "loop='pallas' needs float parameters in the model and the stimulus"
    mesh = batch_mesh(model, drive, y0)
    if isinstance(mesh, str):
        return mesh
    if mesh is not None and y0.shape[0] % mesh.size:
        return (
            f"loop='pallas' on {mesh.size} devices needs a batch that is a multiple of "
            f"them, got B = {y0.shape[0]}; use loop='xla'"
        )
    args = (model, solver, drive, dt, y0, t0, key, n_steps, recording, throw, model_axes, options)
    return _remembered(_KERNEL_REFUSALS, (*args, None, events), _kernel_refusal)


def _fits_a_lane(x) -> bool:
    """Whether a leaf of the stimulus state can enter the kernel as one value per lane."""
    return x.ndim == 1 and (jnp.issubdtype(x.dtype, jnp.floating) or x.dtype == jnp.uint32)


def _without_keys(stimulus: AbstractStimulus) -> AbstractStimulus:
    """The stimulus without the per-neuron keys of a chunk (`_chunked.PerNeuronKeys`): the
    kernel receives its initial state, keys included, as per-lane inputs."""
    return stimulus.stimulus if isinstance(stimulus, PerNeuronKeys) else stimulus


def _kernel_refusal(dynamic, static) -> str | None:
    """The refusal decided by the primitives of the kernel's trace (abstract arguments)."""
    model, solver = static[0], static[1]
    name = f"{type(model).__name__} with {type(solver).__name__}"
    try:
        closed, _, _ = eqx.filter_make_jaxpr(run_pallas_loop)(*eqx.combine(dynamic, static))
    except Exception as error:  # noqa: BLE001 (the reason is reported)
        reason = str(error).split("\n")[0]
        if "captures constants" in reason:  # an array built inside the step
            reason = "its step builds array constants, which a kernel may not capture"
        return (
            f"loop='pallas' cannot trace the step of {name} inside a kernel: {reason[:200]}; "
            "use loop='xla'"
        )
    used = set().union(*(_primitives(k) for k in _kernel_jaxprs(closed.jaxpr)))
    if not used <= _KERNEL_PRIMITIVES:
        return (
            f"loop='pallas' cannot run the step of {name} inside a kernel: it uses "
            f"{sorted(used - _KERNEL_PRIMITIVES)}, which are not elementwise; use loop='xla'"
        )
    return None


#: Per signature of `run_pallas_loop`'s arguments: the kernel's refusal (a trace) and
#: whether it compiles (`pallas_lowers`), so repeated calls pay neither again.
_KERNEL_REFUSALS: dict = {}
_COMPILES: dict = {}


def _remembered(cache: dict, args, compute):
    """`compute(abstract dynamic part, static part)` of `args`, remembered in `cache` under
    their signature (shapes, dtypes, tree structure and static values)."""
    dynamic, static = eqx.partition(args, eqx.is_array)
    dynamic = jax.tree.map(_abstract, dynamic)
    leaves, tree = jax.tree.flatten(dynamic)
    static_leaves, static_tree = jax.tree.flatten(static)
    key = (tree, tuple((x.shape, str(x.dtype)) for x in leaves), static_tree, *static_leaves)
    try:
        hash(key)
    except TypeError:  # an unhashable static argument: do not remember
        return compute(dynamic, static)
    if key not in cache:
        cache[key] = compute(dynamic, static)
    return cache[key]


# --- the stimulus inside the kernel ---------------------------------------------------------


class _Row(AbstractStimulus):
    """Inside the kernel: the step's sample of a `Sampled` trace, read from its row of the
    trace before sampling (`Sampled.sample` indexes an array; the kernel reads a ref). None
    outside the kernel (a placeholder without leaves)."""

    value: jax.Array | jax.ShapeDtypeStruct | None  # [block] (per neuron), a scalar (shared)

    def init(self, key, dt):
        return None

    def sample(self, n, t, dt, state):
        assert isinstance(self.value, jax.Array)  # a row read in the kernel
        return self.value.astype(t.dtype), None  # as Sampled: values[..., n].astype(t.dtype)


def _traces(stimulus: AbstractStimulus) -> list[jax.Array]:
    """The values of the `Sampled` terms, in order."""
    return [jnp.asarray(t.values) for t in _stimulus_terms(stimulus) if isinstance(t, Sampled)]


def _with_rows(stimulus: AbstractStimulus, rows) -> AbstractStimulus:
    """`stimulus` with each `Sampled` term (or `_Row` placeholder) replaced by a `_Row` of
    the given rows, in order."""
    rows = iter(rows)

    def replace(term):
        if isinstance(term, Sum):
            return Sum(tuple(replace(t) for t in term.terms))
        if isinstance(term, (Sampled, _Row)):
            return _Row(next(rows))
        return term

    return replace(stimulus)


# --- the kernel -----------------------------------------------------------------------------


def _interpret(options: PallasLoop) -> bool:
    if options.interpret is not None:
        return options.interpret
    return jax.default_backend() == "cpu"


def _compiler_params(options: PallasLoop):
    """Triton's parameters: given always, since without them a GPU `pallas_call` lowers to
    Mosaic GPU (JAX's default there), whose copies and layouts this kernel does not fit."""
    return plgpu.CompilerParams(num_warps=options.num_warps)


@eqx.filter_jit
def run_pallas_loop(
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
    model_axes,
    options: PallasLoop,
    surrogate=None,
    events=None,
) -> Trajectory:
    """Integrate `n_steps` fixed steps of a batch (`y0 [B, n_state]`) in one Pallas kernel.

    Arguments as `_loop.run_loop` (a batch; the configuration passed `pallas_refusal`).
    `events` (None or an `InStepEvents`) is the XLA loop's: with in-step events the kernel
    runs the same step without control flow (`straight_line`) and records every located
    spike of a step. A `surrogate` changes derivatives only, which the kernel does not
    compute (`run_differentiable_pallas_loop`): the values are those of a hard threshold,
    returned in the XLA loop's schema for a surrogate (the spike signal and count as floats
    of the state's dtype). With several devices the kernel is custom-partitioned
    (`_partitioned_by_xla`): XLA splits it along the batch as the inputs are sharded
    (`scjax.shard_batch`, or inside a user's `jax.jit`), each device running it on its own
    neurons; nothing moves between devices. Returns the Trajectory `run_loop` returns.
    """
    dtype = y0.dtype
    batch = y0.shape[0]
    is_stimulus = isinstance(drive, AbstractStimulus)
    current, dt = checked_drive(None if is_stimulus else drive, dt)
    drive = drive if is_stimulus else current
    # Computed for the whole batch (neuron i's key is split(key, B)[i]), then read per lane.
    state0 = None
    if isinstance(drive, AbstractStimulus):
        state0 = initial_stimulus_state(drive, drive.batch_axes(), dt, key, batch)

    def kernel(model, drive, y0, state0, dt, t0) -> tuple:
        return kernel_outputs(
            model,
            solver,
            drive,
            dt,
            y0,
            t0,
            state0,
            n_steps,
            recording,
            model_axes,
            options,
            events,
        )

    run: Callable[..., tuple] = kernel
    if jax.device_count() > 1 and PARTITIONED_OVER_DEVICES:
        run = _partitioned_by_xla(kernel, model, drive)
    y_final, n_spikes, saved, buffer, raster = run(model, drive, y0, state0, dt, t0)
    ys = jnp.concatenate([recorded_states(tuple(y0.T), recording, True)[None], saved], axis=0)
    ts = time_grid(t0, dt, n_steps, dtype)[:: recording.save_every]
    signal_count = None
    if surrogate is not None:  # exact: a count below 2^24 is a float32 (the XLA loop's sum)
        signal_count = n_spikes.astype(dtype)
        raster = None if raster is None else raster.astype(dtype)
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
        batched=True,
        surrogate=surrogate,
    )


# --- derivatives ----------------------------------------------------------------------------


def run_differentiable_pallas_loop(
    args: tuple, options: PallasLoop, *, surrogate, stimulus_axes, events=None
) -> Trajectory:
    """`run_pallas_loop(*args, options, surrogate, events)` when the run is not
    differentiated; under `jax.jvp`, `jax.grad` or `jax.vjp` the XLA loop's (`_loop.run_loop`
    with `surrogate` and `events`), values and derivatives. `args` are `pallas_refusal`'s
    positional arguments.

    A `pallas_call` whose kernel loops over steps has no transpose (JAX cannot linearise
    it), so the kernel's custom derivative rule is the XLA loop's JVP, which reverse mode
    transposes. The two loops' values agree bit for bit on the CPU (interpret mode) and to
    rounding on a GPU, so a gradient is the derivative of what the kernel computes. Only
    `model`, `drive`, `dt`, `y0` and `t0` carry tangents.
    """
    model, solver, drive, dt, y0, t0, key, n_steps, recording, throw, model_axes = args
    return _kernel_with_xla_jvp(
        model,
        drive,
        dt,
        y0,
        t0,
        key,
        static=(solver, n_steps, recording, throw, model_axes, options, events),
        surrogate=surrogate,
        stimulus_axes=stimulus_axes,
    )


@eqx.filter_custom_jvp
def _kernel_with_xla_jvp(model, drive, dt, y0, t0, key, *, static, surrogate, stimulus_axes):
    solver, n_steps, recording, throw, model_axes, options, events = static
    args = (model, solver, drive, dt, y0, t0, key, n_steps, recording, throw, model_axes)
    return run_pallas_loop(*args, options, surrogate, events)


@_kernel_with_xla_jvp.def_jvp
def _xla_jvp(primals, tangents, *, static, surrogate, stimulus_axes):
    solver, n_steps, recording, throw, model_axes, _, events = static
    # Symbolic zero tangents (None) of differentiable leaves become zeros for jax.jvp.
    differentiable, fixed = eqx.partition(primals, eqx.is_inexact_array)
    tangents = jax.tree.map(
        lambda p, t: None if p is None else jnp.zeros_like(p) if t is None else t,
        differentiable,
        tangents,
        is_leaf=lambda p: p is None,
    )

    def xla_loop(differentiable):
        model, drive, dt, y0, t0, key = eqx.combine(differentiable, fixed)
        return run_loop(
            model=model,
            solver=solver,
            drive=drive,
            dt=dt,
            y0=y0,
            t0=t0,
            key=key,
            n_steps=n_steps,
            recording=recording,
            throw=throw,
            surrogate=surrogate,
            model_axes=model_axes,
            stimulus_axes=stimulus_axes,
            events=events,
        )

    return jax.jvp(xla_loop, (differentiable,), (tangents,))


def kernel_outputs(
    model,
    solver,
    drive,
    dt,
    y0,
    t0,
    stimulus_state,
    n_steps: int,
    recording: Recording,
    model_axes,
    options: PallasLoop,
    events=None,
) -> tuple[tuple[jax.Array, ...], jax.Array, jax.Array, jax.Array | None, jax.Array | None]:
    """The `pallas_call` of `run_pallas_loop` (no checks around it) on the batch padded to a
    multiple of the block: the final state components `[B]` × n_state, the counts `[B]`,
    the saved recorded states `[T/save_every, n_rec, B]`, the spike times `[K, B]` (or None)
    and the raster `[T, B]` (or None). `stimulus_state` is the
    stimulus's initial state (leaves `[B]`, `initial_stimulus_state`), None for a current."""
    dtype = y0.dtype
    batch, n_state = y0.shape
    block = options.block_size
    padded = pl.cdiv(batch, block) * block
    is_stimulus = isinstance(drive, AbstractStimulus)
    current = None if is_stimulus else drive
    save_every = recording.save_every
    n_saved = n_steps // save_every

    def pad(x):  # [B, ...] → [padded, ...], repeating the last neuron
        return jnp.pad(x, [(0, padded - batch)] + [(0, 0)] * (x.ndim - 1), mode="edge")

    # How the kernel reads each input: "shared" (a scalar), "lanes" (the block's [block]),
    # "trace" ([T], a scalar per step) or "trace_lanes" ([T, block], a row per step).
    inputs, kinds = [], []

    def add(x, kind):
        inputs.append(x)
        kinds.append(kind)

    def add_param(x, axis):
        if axis is None:
            add(jnp.reshape(x, (1,)), "shared")
        else:
            add(pad(x), "lanes")

    def add_trace(values):  # [T] or [B, T]
        if values.ndim == 1:
            add(values, "trace")
        else:
            add(pad(values).T, "trace_lanes")  # [T, padded]: each step reads one row

    add_param(dt, None)
    add_param(t0, None)
    # Per-neuron leaves are [B] (simulate_batch's model_axes: 0 where ndim == 1).
    model_leaves, model_tree = jax.tree.flatten(model)
    for leaf in model_leaves:
        add_param(leaf, 0 if jnp.ndim(leaf) == 1 else None)
    if is_stimulus:
        state_leaves, state_tree = jax.tree.flatten(stimulus_state)
        drive = _without_keys(drive)
        traces = _traces(drive)
        params = _with_rows(drive, [None] * len(traces))  # the parameters: rows come per step
        stim_leaves, stim_tree = jax.tree.flatten(params)
        for leaf in stim_leaves:
            add_param(leaf, 0 if jnp.ndim(leaf) >= 1 else None)
        for values in traces:
            add_trace(values)
    else:
        assert current is not None  # a dense current when not a stimulus
        stim_leaves, stim_tree, traces = [], None, [current]
        state_leaves, state_tree = [], None
        add_trace(current)
    for leaf in state_leaves:
        add_param(leaf, 0)
    for component in y0.T:
        add_param(component, 0)

    def spec(x, kind):
        if kind == "shared":
            return pl.BlockSpec((1,), lambda i: (0,))
        if kind == "lanes":
            return pl.BlockSpec((block,), lambda i: (i,))
        if kind == "trace":
            return pl.BlockSpec(x.shape, lambda i: (0,))
        return pl.BlockSpec((x.shape[0], block), lambda i: (0, i))

    indices = recording.state_indices
    # Spike times: the first K per neuron, a row per spike; a raster: a row per step (int8:
    # a bool ref has no Triton layout).
    capacity = recording.max_spikes
    rows_out = {"times": (capacity, dtype), "raster": (n_steps, jnp.int8)}.get(recording.spikes)
    out_shape = (
        [jax.ShapeDtypeStruct((padded,), dtype) for _ in range(n_state)]
        + [jax.ShapeDtypeStruct((padded,), jnp.int32)]
        + [jax.ShapeDtypeStruct((n_saved, padded), dtype) for _ in indices]
        + ([] if rows_out is None else [jax.ShapeDtypeStruct((rows_out[0], padded), rows_out[1])])
    )
    out_specs = (
        [pl.BlockSpec((block,), lambda i: (i,)) for _ in range(n_state + 1)]
        + [pl.BlockSpec((n_saved, block), lambda i: (0, i)) for _ in indices]
        + ([] if rows_out is None else [pl.BlockSpec((rows_out[0], block), lambda i: (0, i))])
    )
    n_model, n_stim, n_traces = len(model_leaves), len(stim_leaves), len(traces)
    n_stim_state = len(state_leaves)

    def kernel(*refs):
        in_refs, out_refs = refs[: len(inputs)], refs[len(inputs) :]

        def read(ref, kind):
            return ref[0] if kind == "shared" else ref[...]

        values = [read(r, k) if k in ("shared", "lanes") else None for r, k in zip(in_refs, kinds)]
        k_dt, k_t0 = values[0], values[1]
        assert k_dt is not None and k_t0 is not None  # read as scalars
        at = 2
        k_model = jax.tree.unflatten(model_tree, values[at : at + n_model])
        at += n_model
        stim_params = values[at : at + n_stim]
        at += n_stim
        trace_refs = list(zip(in_refs[at : at + n_traces], kinds[at : at + n_traces]))
        at += n_traces
        stim_state_leaves = values[at : at + n_stim_state]
        at += n_stim_state
        y_start = tuple(values[at : at + n_state])
        final_refs = out_refs[:n_state]
        count_ref = out_refs[n_state]
        saved_refs = out_refs[n_state + 1 : n_state + 1 + len(indices)]
        spikes_ref = out_refs[n_state + 1 + len(indices)] if rows_out is not None else None
        lanes = jax.lax.broadcasted_iota(jnp.int32, (block,), 0)
        if spikes_ref is not None and recording.spikes == "times":  # inf where no spike
            spikes_ref[...] = jnp.full((capacity, block), jnp.inf, dtype)

        def rows(n):  # the step's row of each trace: [block] per neuron, a scalar if shared
            return [ref[n, :] if kind == "trace_lanes" else ref[n] for ref, kind in trace_refs]

        neuron_step = one_neuron_step(solver, k_dt, None, events, straight_line=True)
        if is_stimulus:
            assert stim_tree is not None
            k_params = jax.tree.unflatten(stim_tree, stim_params)
            row_shapes = [
                jax.ShapeDtypeStruct((block,) if kind == "trace_lanes" else (), dtype)
                for _, kind in trace_refs
            ]
            axes = _with_rows(k_params, row_shapes).batch_axes()
            _, sample = stimulus_sampler(k_dt, block, axes, False)
            stim_state0 = jax.tree.unflatten(state_tree, stim_state_leaves)
            current_axis = 0
        else:
            k_params, sample, stim_state0 = None, None, None
            current_axis = 0 if traces[0].ndim == 2 else None
        step = components_step(neuron_step, n_state, model_axes, current_axis)
        step = with_kernel_math(step, options.math, interpret=_interpret(options))
        if events is not None and SKIP_QUIET_BLOCKS:
            quiet = components_step(
                quiet_neuron_step(solver, k_dt, events), n_state, model_axes, current_axis
            )
            quiet = with_kernel_math(quiet, options.math, interpret=_interpret(options))
            step = _root_find_where_a_lane_crosses(step, quiet)

        def one_step(n, carry):
            y, stim_state, count = carry
            n = jnp.asarray(n, jnp.int32)  # the XLA loop's step index: int32
            t_n = k_t0 + k_dt * n.astype(dtype)  # the XLA loop's t0 + dt·arange(T)[n]
            if sample is not None:
                assert k_params is not None  # set with the sampler
                i_n, stim_state = sample(_with_rows(k_params, rows(n)), stim_state, n, t_n)
            else:
                (i_n,) = rows(n)
            y, spike = step(k_model, y, t_n, i_n)
            if events is None:  # at t_{n+1} (the XLA loop's ts[1:][n])
                times = [jnp.broadcast_to(k_t0 + k_dt * (n + 1).astype(dtype), (block,))]
                fired = [spike.astype(bool)]
            else:  # the step's located spikes, a prefix of its offsets (`record_in_step`)
                times = [t_n + offset for offset in spike]
                fired = [offset < jnp.inf for offset in spike]
            if spikes_ref is not None and recording.spikes == "times":
                # Spike k of the step in row `count + k` while there is room.
                for k, (time, fires) in enumerate(zip(times, fired)):
                    row = jnp.minimum(count + k, capacity - 1)
                    room = fires & (count + k < capacity)
                    plgpu.store(spikes_ref.at[row, lanes], time, mask=room)
            n_fired = fired[0].astype(jnp.int32)
            for fires in fired[1:]:
                n_fired = n_fired + fires.astype(jnp.int32)
            if spikes_ref is not None and recording.spikes == "raster":
                spikes_ref[n, :] = (n_fired > 0).astype(jnp.int8)
            return y, stim_state, count + n_fired

        def time_block(k, carry):
            start = k * save_every
            carry = jax.lax.fori_loop(0, save_every, lambda j, c: one_step(start + j, c), carry)
            for ref, i in zip(saved_refs, indices):
                ref[k, :] = carry[0][i]
            return carry

        carry0 = (y_start, stim_state0, jnp.zeros((block,), jnp.int32))
        # Static trip counts: both loops are `scan`s (a counted loop in Triton).
        y_end, _, count = jax.lax.fori_loop(0, n_saved, time_block, carry0)
        for ref, component in zip(final_refs, y_end):
            ref[...] = component
        count_ref[...] = count

    outs = pl.pallas_call(
        kernel,
        out_shape=out_shape,
        grid=(padded // block,),
        in_specs=[spec(x, k) for x, k in zip(inputs, kinds)],
        out_specs=out_specs,
        interpret=_interpret(options),
        compiler_params=_compiler_params(options),
        name=f"scjax_{type(model).__name__}_{type(solver).__name__}",
    )(*inputs)
    y_final = tuple(x[:batch] for x in outs[:n_state])
    saved = jnp.stack([x[:, :batch] for x in outs[n_state + 1 : n_state + 1 + len(indices)]], 1)
    spike_rows = None if rows_out is None else outs[-1][:, :batch]
    buffer = spike_rows if recording.spikes == "times" else None
    raster = None if recording.spikes != "raster" else spike_rows != 0
    return y_final, outs[n_state][:batch], saved, buffer, raster


#: Whether a block with in-step events skips the root find in steps where none of its lanes
#: crosses (`_root_find_where_a_lane_crosses`); a switch for experiments.
SKIP_QUIET_BLOCKS = True


def _root_find_where_a_lane_crosses(step, quiet):
    """The in-step `step(model, y, t_n, i_n)` of a block, run only in steps where one of its
    lanes crosses: elsewhere `quiet`'s values (`_events.in_step_quiet_step`), which equal the
    step's bit for bit there. The XLA loop evaluates the root find for every neuron in every
    step (vmap makes its branch a select); a block of sparsely firing neurons mostly has
    none to locate, and a branch on one value per block is uniform across its threads."""

    def skipping(model, y, t_n, i_n):
        y_quiet, offsets, crosses = quiet(model, y, t_n, i_n)
        # A max, not an any: Triton lowers reduce_max, not reduce_or.
        any_crosses = jnp.max(crosses.astype(jnp.int32)) > 0
        return jax.lax.cond(
            any_crosses, lambda: step(model, y, t_n, i_n), lambda: (y_quiet, offsets)
        )

    return skipping


# --- a batch sharded over devices -----------------------------------------------------------


def batch_mesh(*trees) -> Mesh | str | None:
    """The 1-D mesh the concrete array leaves of `trees` are sharded over along their first
    axis (as `scjax.shard_batch` places them), None when no leaf spans several devices, or
    a sentence naming `loop` when the leaves are sharded some other way."""
    meshes = set()
    for x in jax.tree.leaves(trees):
        if not (isinstance(x, jax.Array) and is_concrete(x) and len(x.sharding.device_set) > 1):
            continue
        if x.sharding.is_fully_replicated:  # a shared value on every device: no split
            continue
        sharding = x.sharding
        spec = getattr(sharding, "spec", None)
        mesh = getattr(sharding, "mesh", None)
        if (
            not isinstance(mesh, Mesh)
            or len(mesh.axis_names) != 1
            or spec is None
            or len(spec) < 1
            or spec[0] != mesh.axis_names[0]
            or any(axis is not None for axis in spec[1:])
        ):
            return (
                "loop='pallas' runs a batch sharded along its first axis over a 1-D mesh "
                f"(scjax.shard_batch), got an input sharded as {sharding}; use loop='xla'"
            )
        meshes.add(mesh)
    if len(meshes) > 1:
        return "loop='pallas' needs every sharded input on one mesh; use loop='xla'"
    return meshes.pop() if meshes else None


#: Whether the kernel is custom-partitioned on several devices (`_partitioned_by_xla`); a
#: switch for experiments/pallas_over_devices.py, which measures the pallas_call left to
#: XLA's partitioner (all-gathered) against it.
PARTITIONED_OVER_DEVICES = True

#: The batch axis of a leaf that every neuron shares (`_batch_axes`).
_SHARED = -1


def _batch_axes(model, drive, kernel_args, kernel_outputs):
    """Where the batch axis of each leaf of the kernel's arguments `(model, drive, y0,
    state0, dt, t0)` and outputs `(y_final, counts, saved, spike times, raster)` is, as two
    pytrees of ints of the same structures (`_SHARED` for a leaf shared by every neuron)."""
    _, _, y0, state0, dt, t0 = kernel_args
    model_axes = jax.tree.map(lambda x: 0 if jnp.ndim(x) == 1 else _SHARED, model)
    if isinstance(drive, AbstractStimulus):
        drive_axes = jax.tree.map(
            lambda x, a: _SHARED if a is None else a, drive, drive.batch_axes()
        )
    else:
        drive_axes = 0 if drive.ndim == 2 else _SHARED
    every = lambda tree, axis: jax.tree.map(lambda _: axis, tree)  # noqa: E731
    args = (model_axes, drive_axes, every(y0, 0), every(state0, 0))
    args += (every(dt, _SHARED), every(t0, _SHARED))
    # [B] × n_state, [B], [T/save_every, n_rec, B], [K, B], [T, B]
    y_final, counts, saved, buffer, raster = kernel_outputs
    outputs = (every(y_final, 0), every(counts, 0), every(saved, 2))
    outputs += (every(buffer, 1), every(raster, 1))
    return args, outputs


def _partitioned_by_xla(kernel, model, drive):
    """`kernel(model, drive, y0, state0, dt, t0)` as one operation XLA's partitioner splits
    along the batch (`custom_partitioning`). A `pallas_call` left to the partitioner is
    computed whole on every device (the batch all-gathered, the results replicated), and
    under a user's `jax.jit` the inputs' placement is not known when the kernel is traced.
    With this rule the batch dimension of every per-neuron input and output is one factor;
    whatever sharding XLA settles on for it (the inputs' own: `scjax.shard_batch`, a user's
    mesh, explicit axes), each device runs the kernel on its rows and nothing else moves.
    Other dimensions stay replicated. On one device, or inside `shard_map`, it is the
    kernel itself."""

    def run(*args):
        leaves, in_tree = jax.tree.flatten(args)
        # Typed PRNG keys (a chunk's per-neuron keys) enter as their words: the partitioner
        # sees the physical [B, 2] array, not the key type's [B].
        impls = [jax.random.key_impl(x) if is_key(x) else None for x in leaves]
        leaves = [x if i is None else jax.random.key_data(x) for x, i in zip(leaves, impls)]
        out_shapes = jax.eval_shape(kernel, *args)
        out_leaves, out_tree = jax.tree.flatten(out_shapes)
        axes = _batch_axes(model, drive, args, out_shapes)
        in_axes, out_axes = jax.tree.leaves(axes[0]), jax.tree.leaves(axes[1])
        assert len(in_axes) == len(leaves) and len(out_axes) == len(out_leaves)
        others = []

        def mapping(x, axis):
            dims = []
            for d in range(jnp.ndim(x)):
                if d == axis:
                    dims.append("batch")
                else:
                    others.append(f"dim{len(others)}")
                    dims.append(others[-1])
            return ArrayMapping(*dims)

        rule = (
            tuple(mapping(x, a) for x, a in zip(leaves, in_axes)),
            tuple(mapping(x, a) for x, a in zip(out_leaves, out_axes)),
        )
        batch = args[2].shape[0]

        def flat_kernel(*leaves):
            leaves = [
                x if i is None else jax.random.wrap_key_data(x, impl=i)
                for x, i in zip(leaves, impls)
            ]
            outputs = kernel(*jax.tree.unflatten(in_tree, leaves))
            return tuple(jax.tree.leaves(outputs))

        def partition(mesh, arg_shapes, result_shape):
            # The mesh axes of the batch: those of the first per-neuron input, if they
            # divide the batch (else the kernel runs whole, replicated).
            names = None
            for shape, axis in zip(arg_shapes, in_axes):
                if axis != _SHARED:
                    spec = tuple(shape.sharding.spec) + (None,) * shape.ndim
                    names = spec[axis]
                    break
            size = 1
            for name in (names,) if isinstance(names, str) else names or ():
                size *= mesh.shape[name]
            if batch % size:
                names = None

            def sharding(x, axis):
                spec: list = [None] * len(x.shape)
                if axis != _SHARED:
                    spec[axis] = names
                return NamedSharding(mesh, PartitionSpec(*spec))

            arg_shardings = tuple(sharding(x, a) for x, a in zip(arg_shapes, in_axes))
            out_shardings = tuple(sharding(x, a) for x, a in zip(out_leaves, out_axes))
            return mesh, flat_kernel, out_shardings, arg_shardings

        partitioned = custom_partitioning(flat_kernel)
        partitioned.def_partition(
            partition=partition,
            infer_sharding_from_operands=_unused_without_shardy,
            sharding_rule=SdyShardingRule(*rule, need_replication_factors=tuple(others)),
        )
        # custom_partitioning has no batching rule: under jax.vmap the kernel is vmapped
        # itself (the pallas_call's own rule), as on one device.
        vmappable = custom_vmap(partitioned)

        @vmappable.def_vmap
        def _(axis_size, in_batched, *leaves):
            axes = [0 if batched else None for batched in in_batched]
            outputs = jax.vmap(flat_kernel, in_axes=axes)(*leaves)
            return outputs, tuple(True for _ in outputs)

        return jax.tree.unflatten(out_tree, vmappable(*leaves))

    return run


def _unused_without_shardy(mesh, arg_shapes, result_shape):
    raise NotImplementedError(
        "loop='pallas' under jax.jit partitions with Shardy (JAX's default partitioner); "
        "jax_use_shardy_partitioner is off"
    )


# --- loop="auto" ----------------------------------------------------------------------------


def pallas_lowers(args) -> bool:
    """Whether `run_pallas_loop(*args)` lowers and compiles on the default backend (Triton on
    a GPU): tried once per signature (abstract shapes and the static arguments), then
    remembered. Costs one compile of the kernel the first time."""
    return _remembered(_COMPILES, args, _compiles)


def _compiles(dynamic, static) -> bool:
    def run(dynamic):
        return run_pallas_loop(*eqx.combine(dynamic, static))

    try:
        jax.jit(run).lower(dynamic).compile()
    except Exception:  # noqa: BLE001 (any failure to lower or compile means: use XLA)
        return False
    return True
