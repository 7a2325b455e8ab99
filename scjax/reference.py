"""The in-process adaptive reference: diffrax Tsit5 (or Rodas5P) with event-exact resets.

`solve` is the numerical ground truth every fixed-step path is judged against:

- smooth systems (`scjax.models.AbstractPlainSystem`, and crossing models between spikes)
  are integrated by one adaptive `diffrax.diffeqsolve` at tight tolerance (rtol 1e-8,
  atol 1e-10) and sampled on a uniform grid (every 0.1 ms by default: the seed's dense output);
- resetting models (`AbstractResettingModel`: LIF, Izhikevich, AdEx) are integrated
  event-exactly: a `diffrax.Event` root-finds the threshold crossing on the solver's dense
  interpolant (`optimistix.Newton`), the reset map is applied there and integration restarts;
- crossing models (`AbstractCrossingModel`: HH, FHN, Morris–Lecar) get the same root-found
  spike times from alternating up/down crossing events (no reset).

Spike times come back to root-finder accuracy (not snapped to the grid) in
`ReferenceSolution.spike_times`; the grid trajectory is a `scjax.Trajectory` of the same schema
as `scjax.simulate`'s (its `spikes[n]` is True when a spike time lies in (t[n], t[n+1]]).

`run_suite` times all fourteen systems of the reference suite (`SYSTEMS`); `main` is the
`scjax reference` command.
"""

import argparse
import dataclasses
import json
import statistics
import time
from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, Float, Int

from ._trajectory import Trajectory
from ._validation import check_finite_scalar
from .models import (
    LIF,
    AbstractCrossingModel,
    AbstractNeuronModel,
    AbstractResettingModel,
    AdEx,
    BiolekMemristor,
    FitzHughNagumo,
    GammaOscillation,
    HodgkinHuxley,
    Homeostasis,
    Izhikevich,
    Kuramoto,
    Lindblad,
    MorrisLecar,
    PredictiveCoding,
    SCEquilibrium,
    STDPCurve,
)

#: Default bound on the number of spikes one `solve` records (events past it are not
#: integrated: the solve stops there and reports `result = "max_spikes"`).
MAX_SPIKES: int = 1024
#: Grid samples written per inner `diffeqsolve` between two events (a static window, so a
#: segment costs O(window), not O(length of the run)).
WINDOW: int = 256
#: Smallest step (ms) of the adaptive controller (see `solve`).
DTMIN: float = 1e-10
#: Default bound on the accepted + rejected steps of one inner `diffeqsolve`.
MAX_STEPS: int = 100_000


#: Forward-mode adjoint: a plain `lax.while_loop` (no checkpointing machinery), which compiles
#: several times faster; the reference is a forward-only ground truth.
_ADJOINT = diffrax.ForwardMode()


class ReferenceSolution(eqx.Module):
    """The output of `solve`.

    Fields:
        trajectory: a `scjax.Trajectory` on the save grid (`t[n] = t0 + n·saveat`).
        spike_times: shape `[max_spikes]`, the root-found spike times in ms, padded with +inf.
        n_spikes: number of valid entries of `spike_times`.
        n_steps: accepted steps of the adaptive solver, all segments together.
        result: 0 success, 1 an inner solve failed (e.g. max_steps), 2 max_spikes reached.
    """

    trajectory: Trajectory
    spike_times: Float[Array, " max_spikes"]
    n_spikes: Int[Array, ""]
    n_steps: Int[Array, ""]
    result: Int[Array, ""]

    def spike_times_array(self) -> np.ndarray:
        """The valid spike times as a NumPy array (single, unbatched solution)."""
        return np.asarray(self.spike_times)[: int(self.n_spikes)]


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


def _check_float64():
    if jnp.result_type(float) != jnp.float64:
        raise ValueError(
            "scjax.reference needs float64 (rtol 1e-8 is below float32 resolution): call "
            'jax.config.update("jax_enable_x64", True) first'
        )


def _current_args(current, t0: float, current_dt: float | None, saveat: float):
    """The current as (trace, t0, dt) plus the jump times where a concrete trace changes."""
    arr = np.asarray(current, dtype=np.float64) if not isinstance(current, jax.core.Tracer) else None
    if arr is not None:
        if arr.ndim > 1 or arr.size == 0:
            raise ValueError(f"current must be a scalar or a non-empty 1-D trace, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("current must be finite")
        trace = arr.reshape(-1)
        if current_dt is None:
            current_dt = saveat
        check_finite_scalar("current_dt", current_dt, positive=True)
        change = np.nonzero(trace[1:] != trace[:-1])[0] + 1
        jump_ts = t0 + current_dt * change.astype(np.float64) if change.size else None
        return (jnp.asarray(trace), jnp.asarray(t0, jnp.float64),
                jnp.asarray(current_dt, jnp.float64)), jump_ts
    trace = jnp.reshape(jnp.asarray(current, jnp.float64), (-1,))
    current_dt = saveat if current_dt is None else current_dt
    n = trace.shape[0]
    jump_ts = t0 + current_dt * np.arange(1, n, dtype=np.float64) if n > 1 else None
    return (trace, jnp.asarray(t0, jnp.float64), jnp.asarray(current_dt, jnp.float64)), jump_ts


def solve(
    model: AbstractNeuronModel,
    t_span: tuple[float, float],
    current=0.0,
    *,
    solver: diffrax.AbstractAdaptiveSolver | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    saveat: float = 0.1,
    current_dt: float | None = None,
    y0=None,
    max_spikes: int = MAX_SPIKES,
    max_steps: int = MAX_STEPS,
    throw: bool = True,
) -> ReferenceSolution:
    """Adaptive high-accuracy solution of `model` over `t_span`, sampled every `saveat` ms.

    Arguments:
        model: any scjax model (neuron or plain system).
        t_span: (t0, t1) in ms; (t1 − t0)/saveat must be an integer (to 1e-9).
        current: a constant, or a 1-D piecewise-constant trace whose sample k holds over
            [t0 + k·current_dt, t0 + (k+1)·current_dt) (the last sample holds to the end), the
            convention of `scjax.simulate`. Where a concrete trace changes value the step-size
            controller steps exactly onto the jump.
        solver: an adaptive diffrax solver; None means `diffrax.Tsit5()`. For stiff systems
            pass `scjax.solvers.Rodas5P()`.
        rtol, atol: tolerances of the `diffrax.PIDController`.
        saveat: the save grid spacing in ms (the seed's dense output is every 0.1 ms).
        current_dt: sample spacing of a current trace; None means `saveat`.
        y0: initial state; None means `model.initial_state()`.
        max_spikes: at most this many spikes are integrated (the bound of the static spike
            buffer); reaching it stops the solve (`result = 2`, an error if `throw`).
        max_steps: bound on the steps of each inner `diffeqsolve`.
        throw: raise if an inner solve failed or `max_spikes` was reached.

    Returns:
        A `ReferenceSolution` (`.trajectory`, `.spike_times`, `.n_spikes`).
    """
    _check_float64()
    if not isinstance(model, AbstractNeuronModel):
        raise ValueError(f"model must be a scjax model, got {type(model).__name__}")
    if solver is None:
        solver = diffrax.Tsit5()
    if not isinstance(solver, diffrax.AbstractAdaptiveSolver):
        raise ValueError(f"solver must be an adaptive diffrax solver, got {type(solver).__name__}")
    try:
        t0, t1 = (float(t) for t in t_span)
    except (TypeError, ValueError):
        raise ValueError(f"t_span must be a pair of floats (t0, t1), got {t_span!r}") from None
    check_finite_scalar("t0", t0)
    check_finite_scalar("t1", t1)
    check_finite_scalar("saveat", saveat, positive=True)
    check_finite_scalar("rtol", rtol, positive=True)
    check_finite_scalar("atol", atol, positive=True)
    if not t1 > t0:
        raise ValueError(f"t_span must have t1 > t0, got {t_span!r}")
    n_float = (t1 - t0) / saveat
    n_steps = int(round(n_float))
    if abs(n_float - n_steps) > 1e-9 * max(1.0, n_float):
        raise ValueError(f"(t1 - t0)/saveat must be an integer, got {n_float}")
    if not (isinstance(max_spikes, int) and max_spikes >= 1):
        raise ValueError(f"max_spikes must be a positive int, got {max_spikes!r}")
    args_current, jump_ts = _current_args(current, t0, current_dt, saveat)
    grid = t0 + saveat * np.arange(n_steps + 1, dtype=np.float64)
    model = jax.tree.map(lambda p: jnp.asarray(p, jnp.float64) if eqx.is_array_like(p) else p,
                         model)
    y0 = model.initial_state() if y0 is None else y0
    y0 = jnp.asarray(y0, jnp.float64)
    if y0.shape != (model.n_state,):
        raise ValueError(f"y0 must have shape ({model.n_state},), got {y0.shape}")
    # dtmin: on AdEx's exponential upstroke dv/dt reaches ~1e12 mV/ms (the clipped exponent),
    # steps shrink towards the float64 resolution of t and the controller stalls. Steps of
    # DTMIN are accepted there; the threshold event is then root-found on the step's
    # interpolant, so spike times keep an error below DTMIN. Smooth dynamics never get near it.
    controller = diffrax.PIDController(rtol=rtol, atol=atol, dtmin=DTMIN, force_dtmin=True)
    # Solvers with only linear dense output (the scjax Rosenbrock methods, Rodas5P) would
    # interpolate the save grid to second order: make every save time a step end instead.
    step_ts = grid if solver.interpolation_cls is diffrax.LocalLinearInterpolation else None
    if jump_ts is not None or step_ts is not None:
        controller = diffrax.ClipStepSizeController(
            controller, step_ts=None if step_ts is None else jnp.asarray(step_ts),
            jump_ts=None if jump_ts is None else jnp.asarray(jump_ts))
    if isinstance(model, AbstractResettingModel):
        kind = "reset"
    elif isinstance(model, AbstractCrossingModel):
        kind = "cross"
    else:
        kind = "plain"
    return _solve(model, solver, controller, y0, args_current, jnp.asarray(grid), kind,
                  min(WINDOW, n_steps + 1), max_spikes, max_steps, throw)


@eqx.filter_jit
def _solve(model, solver, controller, y0, args_current, grid, kind: str, window: int,
           max_spikes: int, max_steps: int, throw: bool) -> ReferenceSolution:
    term = _CurrentTerm(model)
    n_out = grid.shape[0]
    dtype = grid.dtype
    if kind == "plain":
        sol = diffrax.diffeqsolve(
            term, solver, grid[0], grid[-1], None, y0, (args_current, 1.0),
            saveat=diffrax.SaveAt(ts=grid), stepsize_controller=controller,
            max_steps=max_steps, throw=False, adjoint=_ADJOINT,
        )
        ys = sol.ys
        result = jnp.where(diffrax.is_successful(sol.result), 0, 1)
        spike_times = jnp.full((max_spikes,), jnp.inf, dtype)
        n_spikes = jnp.zeros((), int)
        n_accepted = sol.stats["num_accepted_steps"]
    else:
        ys, spike_times, n_spikes, n_accepted, result = _event_loop(
            term, model, solver, controller, y0, args_current, grid, kind, window,
            max_spikes, max_steps)
    # Spike bins: spike time s falls in step n when grid[n] < s <= grid[n+1].
    bins = jnp.searchsorted(grid, spike_times, side="left") - 1
    bins = jnp.where(jnp.arange(max_spikes) < n_spikes, bins, n_out)  # invalid → dropped
    counts = jnp.zeros(n_out - 1, dtype).at[bins].add(1.0, mode="drop")
    spikes = counts > 0
    diverged = ~jnp.all(jnp.isfinite(ys))
    traj = Trajectory(t=grid, y=ys, spikes=spikes, spike_signal=spikes.astype(dtype),
                      state_names=model.state_names, diverged=diverged)
    out = ReferenceSolution(trajectory=traj, spike_times=spike_times, n_spikes=n_spikes,
                            n_steps=jnp.asarray(n_accepted, int), result=result)
    if throw:
        out = eqx.error_if(out, out.result == 1, "an inner diffeqsolve failed (max_steps "
                           "reached or the step size collapsed): raise max_steps or loosen rtol")
        out = eqx.error_if(out, out.result == 2, f"max_spikes = {max_spikes} reached: raise "
                           "max_spikes or shorten t_span")
    return out


def _event_loop(term, model, solver, controller, y0, args_current, grid, kind, window,
                max_spikes, max_steps):
    n_out = grid.shape[0]
    n_state = y0.shape[0]
    dtype = grid.dtype
    t_end_all = grid[-1]
    spacing = grid[1] - grid[0]
    grid_pad = jnp.concatenate([grid, grid[-1] + spacing * jnp.arange(1, window + 1, dtype=dtype)])
    i_spk = model.spike_index
    threshold = model.spike_threshold()

    def cond_fn(t, y, args, **kwargs):
        # sign = +1: look for an upward crossing; −1: for a downward one (crossing models
        # alternate, so restarting exactly at a crossing can never re-trigger it).
        # Dividing by |dv/dt| (positive: the sign, hence the detection, is unchanged) turns
        # the value into the first-order time to the crossing, in ms: the root finder's
        # |value| < atol test is then a time tolerance even on the near-vertical upstrokes of
        # AdEx and Izhikevich (dv/dt up to 1e12 mV/ms), where |v − v_th| < 1e-10 is
        # unreachable in float64.
        _, sign = args
        rate = jnp.abs(term.vf(t, y, args)[i_spk])
        return sign * (y[i_spk] - threshold) / (rate + 1e-12)

    event = diffrax.Event(cond_fn, root_finder=optx.Bisection(rtol=1e-12, atol=1e-10),
                          direction=True)
    if kind == "cross":
        sign0 = jnp.where(y0[i_spk] >= threshold, -1.0, 1.0).astype(dtype)
        max_events = 2 * max_spikes + 1
    else:
        sign0 = jnp.ones((), dtype)
        max_events = max_spikes
    max_iter = max_events + (n_out + window - 2) // (window - 1) + 2 if window > 1 else max_events + n_out + 2

    def body(state):
        t_start, y, idx, ys, spike_times, n_spikes, sign, n_iter, n_acc, result = state
        ts = jax.lax.dynamic_slice(grid_pad, (idx,), (window,))
        t_end = jnp.minimum(ts[-1], t_end_all)
        ts = jnp.clip(ts, t_start, t_end)
        sol = diffrax.diffeqsolve(
            term, solver, t_start, t_end, None, y, (args_current, sign),
            saveat=diffrax.SaveAt(subs=[diffrax.SubSaveAt(ts=ts), diffrax.SubSaveAt(t1=True)]),
            stepsize_controller=controller, event=event, max_steps=max_steps, throw=False,
            adjoint=_ADJOINT,
        )
        saved, t_final, y_final = sol.ys[0], sol.ts[1][0], sol.ys[1][0]
        valid = (sol.ts[0] < jnp.inf) & ((idx + jnp.arange(window)) < n_out)
        old = jax.lax.dynamic_slice(ys, (idx, 0), (window, n_state))
        ys = jax.lax.dynamic_update_slice(ys, jnp.where(valid[:, None], saved, old), (idx, 0))
        ok = diffrax.is_successful(sol.result) | (sol.result == diffrax.RESULTS.event_occurred)
        happened = jnp.asarray(sol.event_mask) & ok
        is_spike = happened & (sign > 0)
        spike_times = jnp.where(is_spike, spike_times.at[n_spikes].set(t_final, mode="drop"),
                                spike_times)
        n_spikes = n_spikes + is_spike.astype(int)
        if kind == "reset":
            y_next = jnp.where(happened, model.reset(y_final), y_final)
            sign_next = sign
        else:
            y_next = y_final
            sign_next = jnp.where(happened, -sign, sign)
        idx_next = jnp.where(happened, jnp.searchsorted(grid, t_final, side="left"),
                             idx + window - 1)
        result = jnp.where(ok, result, 1)
        t_next = jnp.where(ok, t_final, t_end_all)  # a failed solve ends the loop
        return (t_next, y_next, idx_next.astype(int), ys, spike_times, n_spikes, sign_next,
                n_iter + 1, n_acc + sol.stats["num_accepted_steps"], result)

    def cond(state):
        t_start, _, _, _, _, n_spikes, _, n_iter, _, _ = state
        return (t_start < t_end_all) & (n_spikes < max_spikes) & (n_iter < max_iter)

    ys0 = jnp.full((n_out + window, n_state), jnp.nan, dtype).at[0].set(y0)
    state0 = (grid[0], y0, jnp.zeros((), int), ys0, jnp.full((max_spikes,), jnp.inf, dtype),
              jnp.zeros((), int), sign0, jnp.zeros((), int), jnp.zeros((), int),
              jnp.zeros((), int))
    t_last, _, _, ys, spike_times, n_spikes, _, _, n_acc, result = jax.lax.while_loop(
        cond, body, state0)
    result = jnp.where((result == 0) & (t_last < t_end_all) & (n_spikes >= max_spikes), 2, result)
    return ys[:n_out], spike_times, n_spikes, n_acc, result


# --------------------------------------------------------------------------------------------
# The reference suite: fourteen continuous-time systems.


@dataclasses.dataclass(frozen=True)
class System:
    """One system of the reference suite: a model factory, its input, and its kind."""

    name: str
    make: Callable[[], AbstractNeuronModel]
    current: float
    spiking: bool
    #: the span (ms) of its cross-validation run
    span: float = 1000.0


#: The fourteen systems of the seed's suite, in its order. LIF runs sub-threshold: the seed's
#: I = 15 is exactly the rheobase, where V → V_th only asymptotically and whether a solver
#: "spikes" depends on its rounding (SciPy at rtol 1e-10 does, once); I = 14.9 keeps the
#: system the same (V → −50.1 mV) and the answer well-conditioned.
SYSTEMS: dict[str, System] = {
    s.name: s
    for s in (
        System("lif", LIF, 14.9, False),
        System("izhikevich", Izhikevich, 10.0, True),
        System("hodgkin_huxley", HodgkinHuxley, 10.0, True),
        System("sc_equilibrium", SCEquilibrium, 0.0, False, 200.0),
        System("fitzhugh_nagumo", FitzHughNagumo, 0.5, True),
        System("adex", AdEx, 800.0, True),
        System("morris_lecar", MorrisLecar, 100.0, True),
        System("gamma_oscillation", GammaOscillation, 0.0, False, 200.0),
        System("biolek_memristor", BiolekMemristor, 0.0, False, 200.0),
        System("kuramoto", Kuramoto, 0.0, False, 200.0),
        System("predictive_coding", PredictiveCoding, 0.0, False, 200.0),
        System("homeostasis", Homeostasis, 10.0, False),
        System("lindblad", Lindblad, 0.0, False, 200.0),
        System("stdp", STDPCurve, 0.0, False),
    )
}


def _block(sol: ReferenceSolution):
    jax.block_until_ready(sol)
    return sol


def run_suite(steps: int = 1000, *, repeats: int = 20, systems=None, verbose: bool = True,
              solver=None) -> dict:
    """Solve every system over `steps` samples of 0.1 ms and time it.

    For each system: the cold time (first call: tracing, compilation, one solve) and the warm
    median over `repeats` further solves, in ms. Also the cold wall time of the whole suite
    (all compilations included). Prints the table (like the seed's `julia fusion_solver.jl
    1000`) when `verbose`; returns it as a dict.
    """
    _check_float64()
    names = list(SYSTEMS) if systems is None else list(systems)
    for name in names:
        if name not in SYSTEMS:
            raise ValueError(f"systems must be names from {tuple(SYSTEMS)}, got {name!r}")
    t_suite = time.perf_counter()
    rows = []
    for name in names:
        system = SYSTEMS[name]
        model = system.make()
        span = (0.0, steps * 0.1)
        t = time.perf_counter()
        sol = _block(solve(model, span, system.current, solver=solver))
        cold = time.perf_counter() - t
        warm = []
        for _ in range(repeats):
            t = time.perf_counter()
            _block(solve(model, span, system.current, solver=solver))
            warm.append(time.perf_counter() - t)
        rows.append({
            "system": name,
            "n_state": model.n_state,
            "cold_s": cold,
            "warm_median_ms": 1e3 * statistics.median(warm),
            "warm_min_ms": 1e3 * min(warm),
            "n_steps": int(sol.n_steps),
            "n_spikes": int(sol.n_spikes),
            "final_state_0": float(sol.trajectory.y[-1, 0]),
        })
        if verbose:
            r = rows[-1]
            print(f"{name:20s} {r['warm_median_ms']:9.3f} ms/solve  (cold {r['cold_s']:6.2f} s, "
                  f"{r['n_steps']:6d} steps, {r['n_spikes']:3d} spikes)", flush=True)
    suite_s = time.perf_counter() - t_suite
    if verbose:
        print(f"{'suite (cold, all)':20s} {suite_s:9.2f} s wall, JIT included")
    return {"steps": steps, "repeats": repeats, "saveat_ms": 0.1,
            "solver": type(solver or diffrax.Tsit5()).__name__, "rtol": 1e-8, "atol": 1e-10,
            "cold_suite_s": suite_s, "systems": rows}


#: The seed's Julia warm per-solve figures (ms), which `scjax reference` compares against.
SEED_JULIA_WARM_MS: dict[str, float] = {
    "hodgkin_huxley": 2.07, "izhikevich": 0.78, "adex": 0.58, "fitzhugh_nagumo": 0.70,
    "morris_lecar": 0.63,
}
#: The seed's cold suite wall time (s), the midpoint of its reported 25–31 s.
SEED_JULIA_COLD_SUITE_S: tuple[float, float] = (25.0, 31.0)


def main(argv: list[str] | None = None) -> int:
    """`scjax reference [steps] [--repeats N] [--out FILE] [--systems a,b]`.

    As an application entry point (like the test suite's conftest) it switches float64 on.
    """
    parser = argparse.ArgumentParser(prog="scjax reference", description=main.__doc__)
    parser.add_argument("steps", nargs="?", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--systems", default=None, help="comma-separated subset of names")
    parser.add_argument("--out", default=None, help="write the table as JSON here")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"steps must be >= 1, got {args.steps}")
    jax.config.update("jax_enable_x64", True)
    systems = None if args.systems is None else args.systems.split(",")
    table = run_suite(args.steps, repeats=args.repeats, systems=systems)
    ratios = {}
    for row in table["systems"]:
        if row["system"] in SEED_JULIA_WARM_MS:
            ratios[row["system"]] = row["warm_median_ms"] / SEED_JULIA_WARM_MS[row["system"]]
    table["seed_julia_warm_ms"] = SEED_JULIA_WARM_MS
    table["ratio_vs_seed_julia_warm"] = ratios
    table["seed_julia_cold_suite_s"] = list(SEED_JULIA_COLD_SUITE_S)
    table["ratio_vs_seed_julia_cold"] = table["cold_suite_s"] / (sum(SEED_JULIA_COLD_SUITE_S) / 2)
    for name, r in ratios.items():
        print(f"  {name:18s} {r:6.2f}x the seed's Julia warm time")
    print(f"  cold suite {table['ratio_vs_seed_julia_cold']:.2f}x the seed's Julia cold time")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(table, f, indent=2)
    return 0


__all__ = ["MAX_SPIKES", "ReferenceSolution", "SYSTEMS", "System", "main", "run_suite", "solve"]

