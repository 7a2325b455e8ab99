"""`scjax.adaptive.solve`: the checked front of the windowed event solve."""

import diffrax
import equinox as eqx
import jax
import jax.core  # explicit: a type checker does not see the submodule through `jax`
import jax.numpy as jnp
import numpy as np

from ..models import AbstractCrossingModel, AbstractNeuronModel, AbstractResettingModel
from ..stimulus import AbstractStimulus, sample_trace
from ._arguments import check_limits, check_tolerances, piecewise_current, save_grid
from ._compile import compiled_event_solve
from ._event_solve import window_size
from ._solution import RESULTS, Solution

#: Default bound on the number of spikes one `solve` records (events past it are not
#: integrated: the solve stops there with `RESULTS.max_spikes_reached`).
MAX_SPIKES: int = 1024
#: Default bound on the accepted + rejected steps of one inner `diffeqsolve`.
MAX_STEPS: int = 100_000

#: The default solver of `solve` (a module constant: a static argument of the compiled solve).
_TSIT5 = diffrax.Tsit5()


def check_float64():
    if jnp.result_type(float) != jnp.float64:
        raise ValueError(
            "scjax.adaptive needs float64 (rtol 1e-8 is below float32 resolution): call "
            'jax.config.update("jax_enable_x64", True) first'
        )


def _as_float64_leaf(leaf):
    """Array-like model leaves as float64 (NumPy for Python numbers: no device dispatch here,
    the compiled call transfers them), so a new parameter value never retraces."""
    if isinstance(leaf, (jax.Array, jax.core.Tracer)):
        return leaf if leaf.dtype == jnp.float64 else leaf.astype(jnp.float64)
    if eqx.is_array_like(leaf):
        return np.asarray(leaf, np.float64)
    return leaf


def _initial_state(model: AbstractNeuronModel, y0):
    if y0 is None:
        return None
    if isinstance(y0, jax.core.Tracer):
        y0 = jnp.asarray(y0, jnp.float64)
        if y0.shape != (model.n_state,):
            raise ValueError(f"y0 must have shape ({model.n_state},), got {y0.shape}")
        return eqx.error_if(y0, ~jnp.all(jnp.isfinite(y0)), "y0 must be finite")
    y0 = np.asarray(y0, np.float64)
    if y0.shape != (model.n_state,):
        raise ValueError(f"y0 must have shape ({model.n_state},), got {y0.shape}")
    if not np.all(np.isfinite(y0)):
        raise ValueError(f"y0 must be finite, got {y0}")
    return y0


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
    key=None,
) -> Solution:
    """Adaptive high-accuracy solution of `model` over `t_span`, sampled every `saveat` ms:
    the numerical ground truth every fixed-step path is judged against.

    Arguments:
        model: any scjax model (neuron or plain system).
        t_span: (t0, t1) in ms; (t1 − t0)/saveat must be a positive integer (to 1e-9).
        current: a constant, a `scjax.stimulus` object (sampled every `current_dt`, as the
            fixed-step loop samples it; `key` for stochastic ones), or a 1-D
            piecewise-constant trace whose sample k holds over
            [t0 + k·current_dt, t0 + (k+1)·current_dt) (the last sample holds to the end), the
            convention of `scjax.simulate`. Where a concrete trace changes value the step-size
            controller steps exactly onto the jump.
        solver: an adaptive diffrax solver; None means `diffrax.Tsit5()`. For stiff systems
            pass `scjax.solvers.Rodas5P()`.
        rtol, atol: tolerances of the `diffrax.PIDController`.
        saveat: the save grid spacing in ms (the seed's dense output is every 0.1 ms).
        current_dt: sample spacing of a current trace; None means `saveat`.
        y0: initial state (finite, shape `[n_state]`); None means `model.initial_state()`.
        max_spikes: at most this many spikes are integrated (the bound of the static spike
            buffer); reaching it stops the solve (`RESULTS.max_spikes_reached`).
        max_steps: bound on the steps of each inner `diffeqsolve` (one window or one
            inter-spike segment).
        throw: raise if an inner solve failed or `max_spikes` was reached (a `RuntimeError`;
            under the caller's jit, an `eqx.error_if` run-time error).

    Returns:
        A `scjax.adaptive.Solution` (`.trajectory`, `.spike_times`, `.n_spikes`, `.result`).
        Spike times are root-finder accurate (not snapped to the grid).

    How it runs: one compiled program per model class, solver, tolerances and grid length
    (see `scjax.adaptive._event_solve` for the windows and the events).
    """
    check_float64()
    if not isinstance(model, AbstractNeuronModel):
        raise ValueError(f"model must be a scjax model, got {type(model).__name__}")
    if solver is None:
        solver = _TSIT5
    if not isinstance(solver, diffrax.AbstractAdaptiveSolver):
        raise ValueError(f"solver must be an adaptive diffrax solver, got {type(solver).__name__}")
    t0, _, grid = save_grid(t_span, saveat)
    check_tolerances(rtol, atol)
    check_limits(max_spikes, max_steps)
    if isinstance(current, AbstractStimulus):
        # Sampled on its own grid, so the solver restarts exactly at every jump.
        if current_dt is None:
            raise ValueError(
                "current_dt is None: give the step on which the "
                f"{type(current).__name__} stimulus is sampled"
            )
        current = np.asarray(
            sample_trace(
                current,
                max(1, int(np.ceil((float(t_span[1]) - t0) / current_dt - 1e-9))),
                current_dt,
                t0,
                key=key,
            )
        )
    trace, current_dt, jump_ts = piecewise_current(
        current, t0, saveat if current_dt is None else current_dt
    )
    y0 = _initial_state(model, y0)
    if isinstance(model, AbstractResettingModel):
        kind = "reset"
    elif isinstance(model, AbstractCrossingModel):
        kind = "cross"
    else:
        kind = "plain"
    dyn_model, static_model = eqx.partition(
        jax.tree.map(_as_float64_leaf, model), eqx.is_array_like
    )
    # Solver leaves that are not arrays (Python floats of a tableau) stay static, as before.
    dyn_solver, static_solver = eqx.partition(solver, eqx.is_array)
    out = compiled_event_solve()(
        dyn_model,
        static_model,
        dyn_solver,
        static_solver,
        y0,
        trace,
        np.float64(current_dt),
        grid,
        jump_ts,
        kind=kind,
        rtol=float(rtol),
        atol=float(atol),
        window=window_size(model.n_state, grid.size),
        max_spikes=max_spikes,
        max_steps=max_steps,
    )
    if throw:
        out = _raise_on_failure(out, max_spikes)
    return out


def _raise_on_failure(out: Solution, max_spikes: int) -> Solution:
    if out.result.is_traced():  # solve inside a user's jit: a run-time check
        return out.result.error_if(out, out.result != RESULTS.successful)
    if bool(out.result == RESULTS.max_spikes_reached):
        raise RuntimeError(f"{RESULTS[out.result]} (max_spikes = {max_spikes})")
    if not bool(out.result == RESULTS.successful):
        raise RuntimeError(RESULTS[out.result])
    return out
