"""Gradient-based parameter fitting: `scjax.fit`.

The optimisation runs in an unconstrained space (`scjax.fitting` transforms), differentiates
`scjax.simulate` end to end with `jax.value_and_grad` (spike thresholds crossed with a
surrogate gradient, or, with `events="in_step"`, spike times located inside the step and
differentiated exactly), updates with any optax optimiser, and runs `restarts` initialisations
vmapped in compiled chunks of optimiser steps (`_loop`).
"""

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._surrogate import AbstractSurrogate, surrogate_from_name
from .._validation import check_finite_scalar, check_sample_grid, is_concrete
from ..models import AbstractNeuronModel
from ..simulation._checks import check_solver_for_models, check_time_grid, check_y0
from ..simulation._events import InStepEvents, check_events_for_model, events_from_argument
from ..simulation._solver import resolve_solver
from ..stimulus import AbstractStimulus, sample_trace
from ._loop import run_phases
from ._objective import (
    IN_STEP_SPIKE_LOSSES,
    LOSS_NAMES,
    CallableLoss,
    LocatedSpikeLoss,
    Objective,
    Simulation,
    TrajectoryLoss,
)
from ._options import (
    DEFAULT_CHUNK_SIZE,
    resolve_chunk_size,
    resolve_params,
    resolve_phases,
    restart_inits,
)
from ._result import FitFailedError, FitInterrupted, FitResult
from ._targets import check_finite, prepare_spike_times, prepare_target
from ._transforms import AbstractTransform

#: `scjax.simulate`'s default `max_spikes` (the spike-time buffer of `spikes="times"`).
_SIMULATE_MAX_SPIKES: int = 64


def fit(
    model: AbstractNeuronModel,
    *,
    params: Sequence[str] | Mapping[str, AbstractTransform | None],
    current=None,
    dt: float | None = None,
    target=None,
    loss: str | Callable = "trace_mse",
    optimizer=None,
    steps: int | None = None,
    restarts: int = 1,
    key=None,
    init_spread: float = 0.2,
    surrogate: str | AbstractSurrogate | None = "auto",
    tau: float = 10.0,
    subthreshold: float | None = None,
    solver=None,
    y0=None,
    t0: float = 0.0,
    callback: Callable[[int, np.ndarray], None] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    n_steps: int | None = None,
    events: str | InStepEvents = "end_of_step",
    max_spikes: int | None = None,
) -> FitResult:
    """Fit parameters of `model` by gradient descent through `scjax.simulate`.

    Each learnt parameter p is written as p = transform.forward(u) with u unconstrained
    (`scjax.fitting.Softplus` for the positive fields of the model's `param_domains`, a scaled
    `Affine` otherwise), so no step leaves the valid range. The loss is differentiated exactly
    with reverse mode through the fixed-step scan (each step `jax.checkpoint`-ed); spike
    thresholds and resets carry the derivative of `surrogate` (with `events="in_step"`: the
    exact derivative of the located spike times instead). `restarts` initialisations run
    vmapped, in compiled chunks of `chunk_size` optimiser steps, and the restart with the
    lowest loss wins.

    Arguments:
        model: the initial guess; parameters not in `params` stay fixed.
        params: names of float fields to learn (from `model.param_names`), or a mapping
            name → `AbstractTransform` (None for the default).
        current: `[T]` current trace, `[K, T]` for K sweeps (the loss is averaged over the
            sweeps; `loss="fi_curve"` needs this form), or a `scjax.stimulus` object (then
            give `n_steps`; a stochastic one is sampled once from `key`: a frozen
            realisation). None: `loss` is a callable of the
            model alone (`loss(model) -> scalar`), e.g. a `functools.partial` of
            `losses.fi_curve_loss`.
        dt: step, ms.
        target: what to match. For `"trace_mse"`: a `Trajectory`, a
            `scjax.fitting.Recording(t, v)` (samples with their times on the grid
            t0 + k·dt), or a voltage array of exactly `[T+1]` samples (`y[0]` included). A
            `[T]` array is refused: it could sit on the grid two ways one step apart (see
            `Recording.sampled`). For spike losses: a `Trajectory`, a bool raster `[T]`, or a
            float array of spike times in ms; `"spike_count"` also takes a count,
            `"firing_rate"` / `"fi_curve"` a rate in Hz (per sweep). Batched per sweep for a
            `[K, T]` current.
        loss: `"trace_mse"` (optionally `subthreshold`), `"van_rossum"` (kernel `tau`, ms),
            `"spike_count"`, `"firing_rate"`, `"fi_curve"`, `"spike_times"` (with
            `events="in_step"` only: `losses.spike_time_mse`, the mean squared difference of
            the k-th spike times, a missing or extra spike compared with the window end), or
            a callable `loss(trajectory, target) -> scalar` (see `scjax.losses`).
        optimizer: an optax transformation (default `optax.adam(1e-2)`), or a sequence of
            `(optimizer, steps)` phases run one after the other (e.g.
            `[(optax.adam(0.1), 100), (optax.lbfgs(), 20)]`: Adam to reach the basin,
            L-BFGS to converge in it). Transformations with extra arguments (`optax.lbfgs`)
            get the value and a value function.
        steps: optimiser updates per restart (default 200); None with phases.
        restarts: independent initialisations, run in one vmapped program (one after the
            other with `events="in_step"`, whose root find then runs only in spiking steps;
            the sweeps of a `[K, T]` current likewise).
        key: PRNG key (or a batch of `restarts` keys): restart r starts at
            u₀ + init_spread·N(0, 1) drawn with key r. None: one restart at the guess itself.
        init_spread: standard deviation of the restart jitter in the unconstrained space
            (≈ relative spread of the parameters).
        surrogate: `"auto"` (default: `"fast_sigmoid"` with `events="end_of_step"`, None
            with `"in_step"`), `"fast_sigmoid"`, `"sigmoid"`, an `AbstractSurrogate` (e.g.
            with another slope), or None (the only choice with `events="in_step"`). The
            slope is per mV of x = v − v_peak and should match the voltage steps of the last
            upstroke samples: for AdEx at dt = 0.1 ms, fit (and
            make the data) with v_peak = V_T + 5Δ_T and `SigmoidSurrogate(0.5)` (tests recover
            a, b, τ_w within 1 % from 30 % off); slopes ≥ 1 make the reset's surrogate term
            compound from spike to spike. For Izhikevich the grid surrogate misleads; use the
            sub-step spike times of `losses.subgrid_spike_times` with surrogate=None, or
            better `events="in_step"`.
        tau, subthreshold: hyperparameters of `"van_rossum"` and `"trace_mse"`.
        solver, y0, t0: passed to `scjax.simulate` (and checked as it checks them, before
            anything is compiled).
        callback: called as `callback(step, losses)` after each step, `losses` `[restarts]`.
        n_steps: the number of steps when `current` is a stimulus object.
        chunk_size: optimiser steps per compiled call (default 50). Ctrl-C, or a
            `KeyboardInterrupt` raised by `callback`, stops the fit when the running chunk
            ends: `fit` then raises `FitInterrupted`, whose `result` is the best-so-far
            `FitResult` of the completed steps.
        events: `"end_of_step"` (default: the historical run, spikes and resets at the end
            of the step, spike losses through `surrogate`) or `"in_step"` (or a
            `scjax.simulation.InStepEvents`): each simulation locates the threshold crossing
            inside the step (see `scjax.simulate`), and `"van_rossum"` / `"spike_times"`
            compare those located spike times with the target's — `losses.van_rossum_times`
            (the closed form, no grid) and `losses.spike_time_mse` — differentiated exactly
            (implicit-function rule), no surrogate. Spike times then keep the solver's order,
            so an RK4 fit to spike times needs a far larger dt than the end-of-step rule for
            the same accuracy (`docs/accuracy.md`). `"trace_mse"` and callables work too (a
            callable gets the `spikes="times"` trajectory: `losses.located_spike_times`);
            `"spike_count"`, `"firing_rate"`, `"fi_curve"` are refused (a count has no
            derivative without a surrogate).
        max_spikes: with `events="in_step"`, the capacity of the simulations' spike-time
            buffer. None: 2·N* + 8 for the target's largest count N* (64 for a callable
            loss). Spikes past it are not seen by the loss; it must be ≥ N*.

    Returns:
        A `FitResult`. A restart whose loss is never finite (its simulation diverges at every
        step) is marked in `restart_failed` and never returned as the best; when every
        restart fails, `FitFailedError` (a `ValueError`) says why.

    A fit with `restarts=N` and `key=k` gives the same restarts as N fits with `restarts=1`
    and `key=jax.random.split(k, N)[r][None]`.
    """
    start = time.perf_counter()
    if not isinstance(model, AbstractNeuronModel):
        raise ValueError(f"model must be a scjax model, got {type(model).__name__}")
    names, transforms = resolve_params(model, params)
    phases = resolve_phases(optimizer, steps)
    chunk_size = resolve_chunk_size(chunk_size)
    check_finite_scalar("init_spread", init_spread, nonnegative=True)
    check_finite_scalar("t0", t0)
    in_step = events_from_argument(events)
    surrogate = _resolve_surrogate(surrogate, in_step)
    _check_max_spikes(max_spikes, in_step)
    current = _dense_current(current, n_steps, dt, t0, key)
    if current is None:
        loss_fn, simulation, dtype = _model_loss(loss, in_step), None, jnp.result_type(float)
    else:
        loss_fn, simulation, dtype = _simulation_loss(
            model,
            current=current,
            dt=dt,
            t0=t0,
            target=target,
            loss=loss,
            tau=tau,
            subthreshold=subthreshold,
            surrogate=surrogate,
            solver=solver,
            y0=y0,
            in_step=in_step,
            max_spikes=max_spikes,
        )
    # Leaves as arrays: a new parameter value reuses the compiled optimisation.
    model_arr = jax.tree.map(lambda p: jnp.asarray(p, dtype), model)
    objective = Objective(model_arr, names, transforms, loss_fn, simulation)

    u0 = jnp.stack(
        [
            jnp.asarray(t.inverse(jnp.asarray(getattr(model, n), dtype)), dtype)
            for n, t in zip(names, transforms)
        ]
    )
    u_init = restart_inits(u0, key, restarts, init_spread)
    best_u, best_loss, history, interrupted = run_phases(
        objective, phases, u_init, chunk_size, callback
    )

    def result():
        return _result(model, names, transforms, u_init, best_u, best_loss, history, start)

    if interrupted:
        done = history.shape[1]
        raise FitInterrupted(result() if np.any(np.isfinite(best_loss)) else None, done)
    if not np.any(np.isfinite(np.asarray(best_loss))):
        raise FitFailedError(_failure_reason(objective, history))
    return result()


def _check_max_spikes(max_spikes, in_step) -> None:
    if max_spikes is None:
        return
    if in_step is None:
        raise ValueError(
            f"max_spikes = {max_spikes!r} sizes the spike-time buffer of "
            "events='in_step'; leave it None with events='end_of_step'"
        )
    if isinstance(max_spikes, bool) or not isinstance(max_spikes, int) or max_spikes < 1:
        raise ValueError(f"max_spikes must be a positive int, got {max_spikes!r}")


def _dense_current(current, n_steps, dt, t0, key):
    """`current`, a stimulus sampled: one neuron, T samples, so the dense trace is small and
    the loss sees exactly the samples simulate would draw (a stochastic stimulus is one
    frozen realisation)."""
    if not isinstance(current, AbstractStimulus):
        return current
    if n_steps is None:
        raise ValueError(
            f"n_steps is None: give the number of steps for a {type(current).__name__} stimulus"
        )
    if dt is None:
        raise ValueError("dt is required with current")
    return sample_trace(current, n_steps, dt, t0, key=key)


def _model_loss(loss, in_step) -> CallableLoss:
    """The loss of a fit without simulations (current None): a callable of the model."""
    if in_step is not None:
        raise ValueError(
            "events='in_step' applies to the simulations fit runs; with current=None "
            "the loss callable simulates by itself (pass events= to its simulate)"
        )
    if not callable(loss) or isinstance(loss, str):
        raise ValueError(
            "current is None: loss must then be a callable of the model, loss(model) -> scalar"
        )
    return CallableLoss(loss)


def _simulation_loss(
    model,
    *,
    current,
    dt,
    t0,
    target,
    loss,
    tau,
    subthreshold,
    surrogate,
    solver,
    y0,
    in_step,
    max_spikes,
) -> tuple[Callable, Simulation, Any]:
    """(loss of a trajectory, the `Simulation` with its prepared target, dtype) of a fit to
    simulations, after every check `simulate` makes."""
    if dt is None:
        raise ValueError("dt is required with current")
    current_np = _checked_current(current)
    dtype = jnp.asarray(current_np).dtype
    _check_as_simulate(model, current_np.shape[-1], dt, t0, dtype, solver, y0)
    check_events_for_model(in_step, model, surrogate)
    events = "end_of_step" if in_step is None else in_step
    if isinstance(loss, str):
        loss_fn, target_arr, spikes, capacity = _named_loss(
            loss, target, current_np, float(dt), float(t0), tau, subthreshold, in_step, max_spikes
        )
        target_arr = jax.tree.map(lambda x: jnp.asarray(x, dtype), target_arr)
    elif callable(loss):
        loss_fn, target_arr = CallableLoss(loss), target
        spikes, capacity = "raster", _SIMULATE_MAX_SPIKES
        if in_step is not None:  # the callable gets the located spike times
            spikes = "times"
            capacity = capacity if max_spikes is None else max_spikes
    else:
        raise ValueError(f"loss must be one of {LOSS_NAMES} or a callable, got {loss!r}")
    simulation = Simulation(
        jnp.asarray(current_np),
        target_arr,
        jnp.asarray(dt, dtype),
        jnp.asarray(t0, dtype),
        None if y0 is None else jnp.asarray(y0, dtype),
        surrogate,
        solver,
        events,
        spikes,
        capacity,
    )
    return loss_fn, simulation, dtype


def _checked_current(current) -> np.ndarray:
    """A `[T]` or `[K, T]` current as a finite float NumPy array."""
    current_np = np.asarray(current)
    if current_np.ndim not in (1, 2) or current_np.shape[-1] == 0:
        raise ValueError(f"current must have shape [T] or [K, T], got {current_np.shape}")
    if not np.issubdtype(current_np.dtype, np.floating):
        current_np = current_np.astype(float)
    return check_finite("current", current_np)


def _named_loss(loss, target, current, dt, t0, tau, subthreshold, in_step, max_spikes):
    """(loss of a trajectory, its prepared target (NumPy), simulate's `spikes` and
    `max_spikes`) for a loss given by name."""
    if loss not in LOSS_NAMES:
        raise ValueError(f"loss must be one of {LOSS_NAMES} or a callable, got {loss!r}")
    _check_loss_for_events(loss, in_step)
    if loss == "fi_curve" and current.ndim != 2:
        raise ValueError(
            "loss='fi_curve' needs current of shape [K, T] (one sweep per "
            "current amplitude, e.g. losses.step_currents(...))"
        )
    check_finite_scalar("tau", tau, positive=True)
    if subthreshold is not None:
        check_finite_scalar("subthreshold", subthreshold)
    if in_step is not None and loss in IN_STEP_SPIKE_LOSSES:
        times, mask, n_target = prepare_spike_times(target, current, dt, t0)
        located = LocatedSpikeLoss(loss, float(tau))
        return located, (times, mask), "times", _capacity(max_spikes, n_target)
    if max_spikes is not None:
        raise ValueError(
            f"max_spikes sizes the spike-time buffer of the spike-time losses; "
            f"loss={loss!r} does not use it (leave it None)"
        )
    target_np, v_grid = prepare_target(loss, target, current, dt, t0)
    v_index = None if v_grid is None else jnp.arange(*v_grid)
    trajectory_loss = TrajectoryLoss(loss, dt, float(tau), subthreshold, v_index)
    return trajectory_loss, target_np, "raster", _SIMULATE_MAX_SPIKES


def _resolve_surrogate(surrogate, in_step):
    """The surrogate object of `fit(surrogate=..., events=...)`: `"auto"` is `"fast_sigmoid"`
    for end-of-step runs and None for in-step ones (which differentiate spike times exactly
    and cannot take a surrogate)."""
    if isinstance(surrogate, str) and surrogate == "auto":
        return surrogate_from_name("fast_sigmoid") if in_step is None else None
    surrogate = surrogate_from_name(surrogate)
    if in_step is not None and surrogate is not None:
        raise ValueError(
            f"surrogate must be None (or 'auto') with events='in_step', got {surrogate!r}: "
            "in-step events differentiate the located spike times and resets exactly, and "
            "a surrogate would change that derivative"
        )
    return surrogate


def _check_loss_for_events(loss: str, in_step) -> None:
    """Refuse the named losses that have no derivative under the chosen event rule."""
    if in_step is None and loss == "spike_times":
        raise ValueError(
            "loss='spike_times' needs events='in_step': end-of-step spike times are the "
            "grid times t0 + (n+1)·dt, whose derivative is zero (use loss='van_rossum' "
            "with a surrogate for end-of-step runs)"
        )
    if in_step is not None and loss in ("spike_count", "firing_rate", "fi_curve"):
        raise ValueError(
            f"loss={loss!r} cannot be fitted with events='in_step': a spike count is "
            "piecewise constant and in-step runs take no surrogate, so its derivative is "
            "zero; use events='end_of_step' (with a surrogate) or loss='spike_times' / "
            "'van_rossum'"
        )


def _capacity(max_spikes: int | None, n_target: int) -> int:
    """The spike-time buffer size of an in-step spike-time fit (see `fit`'s `max_spikes`)."""
    if max_spikes is None:
        # Room for the spikes a parameter step away from the target may add (each extra
        # one is still compared, so the loss sees it and pushes it out).
        return 2 * n_target + 8
    if max_spikes < n_target:
        raise ValueError(
            f"max_spikes = {max_spikes} is below the target's {n_target} spikes: the "
            "buffer could never hold the target's spike train"
        )
    return max_spikes


def _check_as_simulate(model, n_steps, dt, t0, dtype, solver, y0) -> None:
    """The checks `scjax.simulate` makes on concrete inputs, made once before compiling
    (inside the compiled fit the model is traced and they could not be)."""
    check_time_grid(dt, t0, n_steps, dtype)
    check_sample_grid(n_steps, dt, t0)
    solver = resolve_solver(model, solver)
    check_solver_for_models(solver, dt, (model,), True)
    check_y0(y0, (model.n_state,), model)
    noise_std = np.asarray(model.noise_std) if is_concrete(model.noise_std) else None
    if noise_std is not None and np.any(noise_std != 0):
        raise ValueError(
            f"model.noise_std = {noise_std.tolist()}: fit simulates without "
            "current noise; set noise_std=0 (or add the noise to current)"
        )


def _result(model, names, transforms, u_init, best_u, best_loss, history, start) -> FitResult:
    best_loss = np.asarray(best_loss)
    failed = ~np.isfinite(best_loss)
    best = int(np.argmin(np.where(failed, np.inf, best_loss)))
    values = {
        n: np.asarray(t.forward(best_u[:, j])) for j, (n, t) in enumerate(zip(names, transforms))
    }
    initial = {
        n: np.asarray(t.forward(u_init[:, j])) for j, (n, t) in enumerate(zip(names, transforms))
    }
    params_best = {n: float(v[best]) for n, v in values.items()}
    fitted = eqx.tree_at(
        lambda m: tuple(getattr(m, n) for n in names), model, tuple(params_best[n] for n in names)
    )
    return FitResult(
        model=fitted,
        params=params_best,
        loss=float(best_loss[best]),
        best_restart=best,
        loss_history=np.asarray(history),
        restart_losses=np.where(failed, np.inf, best_loss),
        restart_failed=failed,
        restart_params=values,
        initial_params=initial,
        wall_time_s=time.perf_counter() - start,
    )


def _failure_reason(objective: Objective, history: np.ndarray) -> str:
    """Why no restart reached a finite loss: the initial guess's simulation diverges, or the
    loss itself is non-finite."""
    n_restarts, n_steps = history.shape
    reason = (
        f"fit failed: the loss was non-finite at every one of the {n_steps} steps of "
        f"all {n_restarts} restart(s)"
    )
    sim = objective.simulation
    if sim is None:
        return reason + " (the loss callable returned a non-finite value)"
    tr = sim.run(objective.model, sim.current if sim.current.ndim == 1 else sim.current[0])
    if bool(np.any(np.asarray(tr.diverged))):
        return reason + (
            ": the simulation of the initial guess diverges (its state becomes "
            "non-finite). Use a smaller dt, a more stable integrator (e.g. "
            "integrator='rosenbrock'), or an initial guess in the model's "
            "physical range"
        )
    return reason + ": the simulation stays finite, so the loss itself is non-finite (check "
    "the target and the loss's hyperparameters)"
