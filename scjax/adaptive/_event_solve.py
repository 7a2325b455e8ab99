"""The windowed event solve: one compiled program that integrates a model adaptively over its
save grid, in short `diffeqsolve` windows that continue one another, with event-exact spikes.

- smooth systems (`scjax.models.AbstractPlainSystem`, and crossing models between spikes)
  are integrated adaptively by `diffrax.diffeqsolve` and sampled on the uniform save grid;
- resetting models (`AbstractResettingModel`: LIF, Izhikevich, AdEx): a `diffrax.Event`
  root-finds the threshold crossing on the solver's dense interpolant (`optimistix.Bisection`),
  the reset map is applied there and integration restarts;
- crossing models (`AbstractCrossingModel`: HH, FHN, Morris–Lecar) get the same root-found
  spike times from alternating up/down crossing events (no reset).

Why windows: on XLA:CPU each step's write into the saved output is free only while that output
stays within `WINDOW_BYTES`; saving the whole grid from one solve costs ~1.7 µs more per step
(HH: 8.5 vs 4.9 ms, measured).
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import optimistix as optx

from .._trajectory import Trajectory
from ..models import AbstractNeuronModel
from ._controller import ContinuedController
from ._solution import RESULTS, Solution, spike_raster

#: Largest saved window (bytes) of one inner `diffeqsolve` that XLA:CPU writes at no extra cost
#: per step: past 512 bytes of saved states every step costs ~1.7 µs more (measured on HH,
#: FHN and the SC equilibrium: the jump sits at 64/n_state samples).
WINDOW_BYTES: int = 512
#: Window (grid samples) of systems with more than WINDOW_MAX_STATE components: their windows
#: cannot be both cheap per step and long, and such systems (Kuramoto, STDP) take few steps,
#: so long windows (few restarts) win there.
WINDOW_LARGE: int = 64
WINDOW_MAX_STATE: int = 8
#: Smallest step (ms) of the adaptive controller (see `event_solve`).
DTMIN: float = 1e-10

#: Scale of the event function (see `event_solve`): |value| stays below the root finder's atol
#: for any |v − v_th| < 1e10, and above the float64 underflow for any |v − v_th| > 1e-288.
_EVENT_SCALE: float = 1e-20

#: Forward-mode adjoint: a plain `lax.while_loop` (no checkpointing machinery), which compiles
#: several times faster; the reference is a forward-only ground truth.
_ADJOINT = diffrax.ForwardMode()


def window_size(n_state: int, n_out: int) -> int:
    """Grid samples per inner solve (see `WINDOW_BYTES`, `WINDOW_LARGE`)."""
    if n_state > WINDOW_MAX_STATE:
        window = WINDOW_LARGE
    else:
        window = max(2, WINDOW_BYTES // (8 * n_state))
    return int(min(n_out, window))


class _CurrentTerm(diffrax.AbstractTerm):
    """f(t, y, I(t)) with I piecewise constant: sample k holds over
    [t0 + k·current_dt, t0 + (k+1)·current_dt); a 1-sample trace is a constant."""

    model: AbstractNeuronModel

    def vf(self, t, y, args):
        (current, t0, current_dt), _ = args
        k = jnp.clip(jnp.floor((t - t0) / current_dt), 0, current.shape[0] - 1).astype(int)
        return self.model.vector_field(t, y, current[k])

    def contr(self, t0, t1, **kwargs):
        return t1 - t0

    def prod(self, vf, control):
        return vf * control


def _threshold_event(model, kind: str, y0, max_spikes: int, dtype):
    """(the diffrax event of a threshold crossing or None, the initial crossing direction,
    the most events the solve may stop at) for a model of `kind`."""
    i_spk = model.spike_index
    threshold = model.spike_threshold()
    if kind == "plain":
        return None, jnp.ones((), dtype), 0

    def cond_fn(t, y, args, **kwargs):
        # sign = +1: look for an upward crossing; −1: for a downward one (crossing models
        # alternate, so restarting exactly at a crossing can never re-trigger it).
        # Only the sign matters, to the event test and to bisection alike; the scale
        # makes the root finder's |value| < atol test vacuous, so it stops on the time
        # bracket alone (|upper − lower| < 1e-10 + 1e-12·t ms). A |v − v_th| test could
        # never pass on the near-vertical upstrokes of AdEx and Izhikevich (dv/dt up to
        # 1e12 mV/ms), and dividing by |dv/dt| instead would cost an f evaluation per step.
        _, sign = args
        return sign * (y[i_spk] - threshold) * _EVENT_SCALE

    event = diffrax.Event(
        cond_fn, root_finder=optx.Bisection(rtol=1e-12, atol=1e-10), direction=True
    )
    if kind == "cross":
        sign0 = jnp.where(y0[i_spk] >= threshold, -1.0, 1.0).astype(dtype)
        return event, sign0, 2 * max_spikes + 1
    return event, jnp.ones((), dtype), max_spikes


def event_solve(
    dyn_model,
    static_model,
    dyn_solver,
    static_solver,
    y0,
    trace,
    current_dt,
    grid,
    jump_ts,
    *,
    kind: str,
    rtol: float,
    atol: float,
    window: int,
    max_spikes: int,
    max_steps: int,
) -> Solution:
    """The windowed event solve (traced once per static configuration; `scjax.adaptive.solve`
    is its checked front). `kind` is "reset", "cross" or "plain" (see the module docstring)."""
    model = eqx.combine(dyn_model, static_model)
    solver = eqx.combine(dyn_solver, static_solver)
    term = _CurrentTerm(model)
    n_out = grid.shape[0]
    n_state = model.n_state
    dtype = grid.dtype
    t_start, t_end_all = grid[0], grid[-1]
    y0 = model.initial_state().astype(dtype) if y0 is None else y0
    args_current = (trace, t_start, current_dt)
    # dtmin: on AdEx's exponential upstroke dv/dt reaches ~1e12 mV/ms (the clipped exponent),
    # steps shrink towards the float64 resolution of t and the controller stalls. Steps of
    # DTMIN are accepted there; the threshold event is then root-found on the step's
    # interpolant, so spike times keep an error below DTMIN. Smooth dynamics never get near it.
    controller = diffrax.PIDController(rtol=rtol, atol=atol, dtmin=DTMIN, force_dtmin=True)
    # Solvers with only linear dense output (the scjax Rosenbrock methods, Rodas5P) would
    # interpolate the save grid to second order: make every save time a step end instead.
    step_ts = grid if solver.interpolation_cls is diffrax.LocalLinearInterpolation else None
    if jump_ts is not None or step_ts is not None:
        controller = diffrax.ClipStepSizeController(controller, step_ts=step_ts, jump_ts=jump_ts)
    controller = ContinuedController(controller)
    error_order = solver.error_order(term)

    def fresh_dt(t, y, args):
        t_next, _ = controller.init(term, t, t_end_all, y, None, args, solver.func, error_order)
        return t_next - t

    event, sign0, max_events = _threshold_event(model, kind, y0, max_spikes, dtype)
    n_windows = (n_out - 2) // (window - 1) + 1
    max_iter = n_windows + max_events + 2
    spacing = grid[1] - grid[0]
    grid_pad = jnp.concatenate([grid, t_end_all + spacing * jnp.arange(1, window + 1, dtype=dtype)])

    def first_at_or_after(t):
        """The first grid index n with grid[n] >= t (searchsorted 'left' on the uniform
        grid, by arithmetic: the estimate is off by at most one ulp-induced step, fixed by
        comparing with the grid itself). t beyond the grid gives n_out."""
        n = jnp.clip(jnp.ceil((t - t_start) / spacing), 0, n_out).astype(int)
        below = (n < n_out) & (grid_pad[jnp.minimum(n, n_out)] < t)
        n = jnp.where(below, n + 1, n)
        above = (n > 0) & (grid_pad[jnp.maximum(n - 1, 0)] >= t)
        return jnp.minimum(jnp.where(above, n - 1, n), n_out)

    saveat = diffrax.SaveAt(
        subs=[diffrax.SubSaveAt(ts=grid_pad[:window]), diffrax.SubSaveAt(t1=True)],
        solver_state=True,
        controller_state=True,
        made_jump=True,
    )

    def body(state):
        (t, y, idx, ys, spike_times, n_spikes, sign, n_iter, n_acc, result, dt0, fsal, jump) = state
        ts = jax.lax.dynamic_slice(grid_pad, (idx,), (window,))
        t_end = jnp.minimum(ts[-1], t_end_all)
        ts = jnp.clip(ts, t, t_end)
        args = (args_current, sign)
        sol = diffrax.diffeqsolve(
            term,
            solver,
            t,
            t_end,
            dt0,
            y,
            args,
            saveat=eqx.tree_at(lambda s: s.subs[0].ts, saveat, ts),
            stepsize_controller=controller,
            event=event,
            max_steps=max_steps,
            throw=False,
            adjoint=_ADJOINT,
            solver_state=fsal,
            made_jump=jump,
        )
        # Set by `saveat` (the grid and t1, the controller state): narrows diffrax's Optionals.
        assert sol.ys is not None and sol.ts is not None and sol.controller_state is not None
        saved, t_final, y_final = sol.ys[0], sol.ts[1][0], sol.ys[1][0]
        valid = (sol.ts[0] < jnp.inf) & ((idx + jnp.arange(window)) < n_out)
        old = jax.lax.dynamic_slice(ys, (idx, 0), (window, n_state))
        ys = jax.lax.dynamic_update_slice(ys, jnp.where(valid[:, None], saved, old), (idx, 0))
        ok = diffrax.is_successful(sol.result) | (sol.result == diffrax.RESULTS.event_occurred)
        _, last, before = sol.controller_state
        dt_next = jnp.maximum(last, before)
        if event is None:
            happened = jnp.zeros((), bool)
            y_next, sign_next = y_final, sign
        else:
            happened = jnp.asarray(sol.event_mask) & ok
            is_spike = happened & (sign > 0)
            # One in-place write (an out-of-range index when there is no spike: dropped).
            spike_times = spike_times.at[jnp.where(is_spike, n_spikes, max_spikes)].set(
                t_final, mode="drop"
            )
            n_spikes = n_spikes + is_spike.astype(int)
            if kind == "reset":
                y_next = jnp.where(happened, model.reset(y_final), y_final)
                sign_next = sign
                # After a reset the dynamics restart: select a fresh initial step there.
                dt_next = jnp.where(happened, fresh_dt(t_final, y_next, args), dt_next)
            else:
                y_next = y_final
                sign_next = jnp.where(happened, -sign, sign)
        idx_next = jnp.where(happened, first_at_or_after(t_final), idx + window - 1)
        result = RESULTS.where(ok, result, RESULTS.solve_failed)
        t_next = jnp.where(ok, t_final, t_end_all)  # a failed solve ends the loop
        # An event ends a solve between steps: the FSAL state belongs to the step's end, not
        # to the event time, so the next solve re-evaluates f there (made_jump).
        jump_next = jnp.asarray(sol.made_jump) | happened
        return (
            t_next,
            y_next,
            idx_next.astype(int),
            ys,
            spike_times,
            n_spikes,
            sign_next,
            n_iter + 1,
            n_acc + sol.stats["num_accepted_steps"],
            result,
            dt_next,
            sol.solver_state,
            jump_next,
        )

    def cond(state):
        t, n_spikes, n_iter, result = state[0], state[5], state[7], state[9]
        return (
            (t < t_end_all)
            & (n_spikes < max_spikes)
            & (n_iter < max_iter)
            & (result == RESULTS.successful)
        )

    args0 = (args_current, sign0)
    dt_first = fresh_dt(t_start, y0, args0)
    fsal0 = solver.init(term, t_start, t_start + dt_first, y0, args0)
    ys0 = jnp.full((n_out + window, n_state), jnp.nan, dtype).at[0].set(y0)
    state0 = (
        t_start,
        y0,
        jnp.zeros((), int),
        ys0,
        jnp.full((max_spikes,), jnp.inf, dtype),
        jnp.zeros((), int),
        sign0,
        jnp.zeros((), int),
        jnp.zeros((), int),
        RESULTS.successful,
        dt_first,
        fsal0,
        jnp.zeros((), bool),
    )
    final = jax.lax.while_loop(cond, body, state0)
    t_last, ys, spike_times, n_spikes, n_acc, result = (
        final[0],
        final[3],
        final[4],
        final[5],
        final[8],
        final[9],
    )
    unfinished = (result == RESULTS.successful) & (t_last < t_end_all)
    result = RESULTS.where(
        unfinished & (n_spikes >= max_spikes), RESULTS.max_spikes_reached, result
    )
    result = RESULTS.where(unfinished & (n_spikes < max_spikes), RESULTS.solve_failed, result)
    ys = ys[:n_out]
    spikes = spike_raster(grid, spike_times, n_spikes)
    diverged = ~jnp.all(jnp.isfinite(ys))
    traj = Trajectory(
        t=grid,
        y=ys,
        spikes=spikes,
        spike_signal=None,
        state_names=model.state_names,
        diverged=diverged,
    )
    return Solution(
        trajectory=traj,
        spike_times=spike_times,
        n_spikes=n_spikes,
        n_steps=jnp.asarray(n_acc, int),
        result=result,
    )
