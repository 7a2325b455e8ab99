"""In-step events: spike times located inside the fixed step, the reset applied there.

With `simulate(..., events="end_of_step")` (the historical default) a resetting model fires and
resets at the end of the step whose candidate state crossed threshold, so spike times are
first-order in dt whatever the solver's order. With `events="in_step"` the step that crosses
is cut at the crossing:

1. the candidate y₁ = Φ(y₀, h) of the solver's step Φ (the same computation as the default
   mode, so a run without spikes is bit-identical to it) crosses threshold;
2. the crossing is the root s* ∈ [0, h] of g(s) = v(Φ(y₀, s)) − v_th, where Φ(y₀, s) is the
   *same solver's step of size s*: the solver's own continuous extension, of the solver's
   order (Euler: the linear interpolant y₀ + s·f(y₀), order 1; RK4: order 4). A safeguarded
   Newton–bisection with a fixed number of iterations (`newton_iterations`) finds it, so the
   step stays jittable and vmappable;
3. the reset map is applied at t* = tₙ + s*, and the rest of the step (t* → tₙ₊₁) is one more
   step of the same solver from the reset state, which may itself cross again: up to
   `max_spikes_per_step` crossings per step are located; a crossing past that bound is
   handled as in the default mode (reset at tₙ₊₁, time tₙ₊₁; see `InStepEvents`).

Crossing models (HH, FHN, Morris–Lecar) get the located time of the upward crossing the same
way; their state is the full step's (nothing is reset), so their trajectory is unchanged.

Why Φ(y₀, s) and not a Hermite cubic through y₀, y₁, f(y₀), f(y₁): the cubic is a 3rd-degree
interpolant with O(h⁴) error, which would do for a vector field that stays smooth past the
threshold (LIF, Izhikevich), but AdEx's right-hand side is clamped at V_peak (NEST's
convention), so the step that crosses integrates through a kink and its end point y₁ (and the
cubic through it) is only O(h²) accurate near the crossing. Φ(y₀, s) with s ≤ s* never
integrates past the threshold, so the located time keeps the solver's order; it costs one
solver step (and its tangent) per Newton iteration, only in steps that spike (`lax.cond`; a
batch evaluates the branch for every neuron).

Spike times are differentiable: the Newton iterations run on `stop_gradient`-ed inputs and a
final Newton step s* = s − g(s; θ)/g'(s) is taken with g's dependence on the parameters and
the state kept (g' stopped). Its derivative is ds*/dθ = −(∂g/∂θ)/(dg/ds) at the root: the
implicit-function rule, for the cost of one step, without a custom derivative rule (which
`unstacked` and `jax.checkpoint` would have to see through). The state after the spike is
reset(Φ(y₀, s*)) followed by Φ(·, h − s*), so gradients of everything after a spike flow
through s* as well — exact event gradients, with no surrogate.
"""

import dataclasses

import jax
import jax.numpy as jnp

from ..models import AbstractCrossingModel, AbstractDiscreteTimeModel, AbstractResettingModel

#: The values of `simulate(events=...)` given by name.
EVENT_MODES: tuple[str, ...] = ("end_of_step", "in_step")


@dataclasses.dataclass(frozen=True)
class InStepEvents:
    """The static options of `events="in_step"` (pass an instance as `events=` to change them).

    Attributes:
        max_spikes_per_step: crossings located within one step (≥ 1; more than one needs
            an inter-spike interval shorter than dt). If the rest of the step still crosses
            after that many, the default mode's rule applies to it: one more spike at the
            step's end, reset there, and any further crossings within that step are lost (the
            default mode counts at most one spike per step). Each unit of the bound adds one
            located event (a root find and two solver steps) to the spiking steps.
        newton_iterations: safeguarded Newton–bisection iterations of each root find (≥ 1),
            before the final (differentiable) Newton step.
    """

    max_spikes_per_step: int = 1
    newton_iterations: int = 6


def events_from_argument(events) -> InStepEvents | None:
    """`simulate(events=...)` → None (the historical end-of-step rule) or the in-step options."""
    if isinstance(events, InStepEvents):
        for name in ("max_spikes_per_step", "newton_iterations"):
            value = getattr(events, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
                raise ValueError(f"events.{name} must be a positive int, got {value!r}")
        return events
    if isinstance(events, str) and events in EVENT_MODES:
        return None if events == "end_of_step" else InStepEvents()
    raise ValueError(
        f"events must be one of {EVENT_MODES} or a scjax.simulation.InStepEvents, got {events!r}"
    )


def check_events_for_model(events: InStepEvents | None, model, surrogate) -> None:
    """Refuse (`ValueError`) in-step events where they have no meaning."""
    if events is None:
        return
    if isinstance(model, AbstractDiscreteTimeModel):
        raise ValueError(
            f"events='in_step' needs a continuous-time model; "
            f"{type(model).__name__} is a discrete-time update built for one dt"
        )
    if not isinstance(model, (AbstractResettingModel, AbstractCrossingModel)):
        raise ValueError(
            f"events='in_step' needs a model that spikes (a resetting or crossing "
            f"model); {type(model).__name__} is neither"
        )
    if surrogate is not None:
        raise ValueError(
            "surrogate must be None with events='in_step': in-step events "
            "differentiate spike times and resets exactly (through the located "
            f"time), got surrogate={surrogate!r}"
        )


def in_step_neuron_step(solver_step, dt, events: InStepEvents, *, straight_line: bool = False):
    """The one-neuron step of `events="in_step"`.

    `solver_step(model, y, t, h, current)` is one step of the run's solver of size `h` from
    `(t, y)`. Returns `neuron_step(model, y, t_n, current) -> (y_next, offsets)`: `offsets`
    (`[max_spikes_per_step + 1]` for a resetting model, `[1]` for a crossing one) are the
    spike times of the step relative to `t_n` in order, +inf where none (see
    `record_in_step`).

    `straight_line=True` (the Pallas kernel) computes the same values without control flow:
    both sides of each branch and a `jnp.where` (what `jax.vmap` makes of the branch
    anyway), the Newton–bisection iterations unrolled, and `offsets` a tuple of scalars
    instead of a stacked vector. The step is then elementwise on the state's components
    (`_unstack`), which a kernel needs; without `vmap` it costs the root find every step.
    """
    n_located = events.max_spikes_per_step
    cond = _where_both if straight_line else jax.lax.cond
    stack = tuple if straight_line else jnp.stack

    def neuron_step(model, y, t_n, i_n):
        i = model.spike_index
        threshold = model.spike_threshold()
        zero = jnp.zeros((), y.dtype)
        y_b, finite, no_event = _candidate(solver_step, model, y, t_n, dt, i_n)

        def locate(y_a, a, y_b):
            return _crossing_offset(
                solver_step,
                model,
                y_a,
                a,
                y_b,
                t_n,
                dt,
                i_n,
                events.newton_iterations,
                straight_line,
            )

        if isinstance(model, AbstractCrossingModel):
            crossed = _crosses(model, y, y_b)
            offset = cond(crossed, lambda: locate(y, zero, y_b), lambda: no_event)
            return jnp.where(finite, y_b, jnp.nan), stack([offset])

        def fire(y_a, a, y_b):
            s = locate(y_a, a, y_b)
            y_reset = model.reset(solver_step(model, y_a, t_n + a, s, i_n))
            a = a + s
            y_b = solver_step(model, y_reset, t_n + a, dt - a, i_n)
            return y_reset, a, y_b, a

        def quiet(y_a, a, y_b):
            return y_a, a, y_b, no_event

        y_a, a = y, zero
        offsets = []
        for _ in range(n_located):
            y_a, a, y_b, offset = cond(_crosses(model, y_a, y_b), fire, quiet, y_a, a, y_b)
            offsets.append(offset)
            finite = finite & jnp.all(jnp.isfinite(y_b))
        # Past the bound: the end-of-step rule of the default mode.
        late = y_b[i] >= threshold
        offsets.append(jnp.where(late, dt, no_event))
        y_next = jnp.where(late, model.reset(y_b), y_b)
        return jnp.where(finite, y_next, jnp.nan), stack(offsets)

    return neuron_step


def in_step_quiet_step(solver_step, dt, events: InStepEvents):
    """What `in_step_neuron_step(..., straight_line=True)` returns where nothing crosses,
    and whether something does: `neuron_step(model, y, t_n, current) -> (y_next, offsets,
    crosses)`, `offsets` the tuple of +inf, `crosses` the condition under which the full
    step's branches are taken (a resetting model's candidate at or above threshold; a
    crossing model's upward crossing). Where `crosses` is False, `y_next` and `offsets`
    equal the full step's bit for bit (the same candidate, the same guard), so a Pallas
    block whose lanes all stay quiet can skip the root find (`_pallas`)."""
    n_offsets = events.max_spikes_per_step + 1

    def neuron_step(model, y, t_n, i_n):
        y_b, finite, no_event = _candidate(solver_step, model, y, t_n, dt, i_n)
        crossing = isinstance(model, AbstractCrossingModel)
        offsets = (no_event,) * (1 if crossing else n_offsets)
        return jnp.where(finite, y_b, jnp.nan), offsets, _crosses(model, y, y_b)

    return neuron_step


def _candidate(solver_step, model, y, t_n, dt, i_n):
    """The default mode's candidate `y_b` (computed the same way: bit-identical where no
    spike is located), whether it is finite, and the +inf of "no event" in y's dtype."""
    y_b = solver_step(model, y, t_n, dt, i_n)
    return y_b, jnp.all(jnp.isfinite(y_b)), jnp.full((), jnp.inf, y.dtype)


def _crosses(model, y_a, y_b):
    """Whether the step from `y_a` to `y_b` has a spike to locate: a resetting model's
    candidate at or above threshold; a crossing model's upward crossing."""
    i = model.spike_index
    threshold = model.spike_threshold()
    above = y_b[i] >= threshold
    if isinstance(model, AbstractCrossingModel):
        return (y_a[i] < threshold) & above
    return above


def _where_both(predicate, true_fn, false_fn, *operands):
    """`lax.cond` as both branches and a select: the values `jax.vmap` gives a cond."""
    taken, other = true_fn(*operands), false_fn(*operands)
    return jax.tree.map(lambda x, y: jnp.where(predicate, x, y), taken, other)


def _crossing_offset(
    solver_step, model, y_a, a, y_b, t_n, dt, i_n, iterations, straight_line: bool = False
):
    """The s ∈ [0, dt − a] where the solver's step of size s from (t_n + a, y_a) lands on
    threshold, given that the full remaining step lands on y_b (at or above it).

    Newton–bisection on the bracket [lo, hi] (g(lo) < 0 ≤ g(hi)): a Newton step that leaves
    the bracket is replaced by its midpoint. Then one Newton step with gradients (see the
    module docstring): s* = s − g(s; θ, y_a)/g'(s).
    """
    i = model.spike_index
    fixed = jax.lax.stop_gradient((model, y_a, a, y_b, t_n, dt, i_n))
    m0, y_a0, a0, y_b0, t_n0, dt0, i_n0 = fixed
    span = dt0 - a0
    threshold0 = m0.spike_threshold()

    def g(s):
        return solver_step(m0, y_a0, t_n0 + a0, s, i_n0)[i] - threshold0

    g_lo = y_a0[i] - threshold0
    g_hi = y_b0[i] - threshold0
    rise = g_hi - g_lo
    fraction = jnp.where(rise > 0, -g_lo / jnp.where(rise > 0, rise, 1.0), 0.0)
    s = span * jnp.clip(fraction, 0.0, 1.0)

    def newton_bisection(_, bracketed):
        s, lo, hi = bracketed
        value, slope = jax.jvp(g, (s,), (jnp.ones_like(s),))
        lo = jnp.where(value < 0, s, lo)
        hi = jnp.where(value >= 0, s, hi)
        newton = s - value / jnp.where(slope != 0, slope, 1.0)
        inside = (slope != 0) & (newton >= lo) & (newton <= hi) & jnp.isfinite(newton)
        return jnp.where(inside, newton, 0.5 * (lo + hi)), lo, hi

    bracketed = (s, jnp.zeros_like(span), span)
    if straight_line:
        for k in range(iterations):
            bracketed = newton_bisection(k, bracketed)
        s = bracketed[0]
    else:  # a loop, not unrolled: one compiled body whatever the iteration count
        s, _, _ = jax.lax.fori_loop(0, iterations, newton_bisection, bracketed)
    _, slope = jax.jvp(g, (s,), (jnp.ones_like(s),))
    # Not where the interval starts at or above threshold (a y0 given there): s = 0 then.
    usable = (slope > 0) & jnp.isfinite(slope) & (g_lo < 0)
    # The implicit-function step: the value and gradient of g at s, the slope held fixed.
    live = solver_step(model, y_a, t_n + a, s, i_n)[i] - model.spike_threshold()
    step = -live / jnp.where(usable, slope, 1.0)
    return s + jnp.where(usable, step, 0.0)


def record_in_step(offsets, t_n, n_spikes, buffer, lanes):
    """Count the step's spikes and write their times `t_n + offset` into the `"times"` buffer
    (None when not recording times). `offsets` is `[K]` (`[B, K]` for a batch); the spikes
    of a step are a prefix of it. Returns (n_spikes, buffer, spiked)."""
    fired = offsets < jnp.inf
    if buffer is not None:
        capacity = buffer.shape[0]
        for k in range(offsets.shape[-1]):
            slot = jnp.where(fired[..., k], n_spikes + k, capacity)  # capacity: dropped
            index = slot if lanes is None else (slot, lanes)
            buffer = buffer.at[index].set(t_n + offsets[..., k], mode="drop")
    count = jnp.sum(fired, axis=-1, dtype=jnp.int32)
    return n_spikes + count, buffer, count > 0
