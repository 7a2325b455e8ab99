"""Gradient-based parameter fitting: `scjax.fit`.

The optimisation runs in an unconstrained space (`scjax.fitting` transforms), differentiates
`scjax.simulate` end to end with `jax.value_and_grad` (spike thresholds crossed with a
surrogate gradient), updates with any optax optimiser, and runs `restarts` initialisations
vmapped in compiled chunks of optimiser steps (`_loop`).
"""

import time
from collections.abc import Callable, Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._surrogate import AbstractSurrogate, surrogate_from_name
from .._validation import check_finite_scalar, check_sample_grid, is_concrete
from ..models import AbstractNeuronModel
from ..simulation._checks import check_solver_for_models, check_time_grid, check_y0
from ..simulation._solver import resolve_solver
from ..stimulus import AbstractStimulus, sample_trace
from ._loop import run_phases
from ._objective import LOSS_NAMES, CallableLoss, Objective, TrajectoryLoss
from ._options import (
    DEFAULT_CHUNK_SIZE,
    resolve_chunk_size,
    resolve_params,
    resolve_phases,
    restart_inits,
)
from ._result import FitFailedError, FitInterrupted, FitResult
from ._targets import check_finite, prepare_target
from ._transforms import AbstractTransform


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
    surrogate: str | AbstractSurrogate | None = "fast_sigmoid",
    tau: float = 10.0,
    subthreshold: float | None = None,
    solver=None,
    y0=None,
    t0: float = 0.0,
    callback: Callable[[int, np.ndarray], None] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    n_steps: int | None = None,
) -> FitResult:
    """Fit parameters of `model` by gradient descent through `scjax.simulate`.

    Each learnt parameter p is written as p = transform.forward(u) with u unconstrained
    (`scjax.fitting.Softplus` for the positive fields of the model's `param_domains`, a scaled
    `Affine` otherwise), so no step leaves the valid range. The loss is differentiated exactly
    with reverse mode through the fixed-step scan (each step `jax.checkpoint`-ed); spike
    thresholds and resets carry the derivative of `surrogate`. `restarts` initialisations run
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
            `"spike_count"`, `"firing_rate"`, `"fi_curve"`, or a callable
            `loss(trajectory, target) -> scalar` (see `scjax.losses`).
        optimizer: an optax transformation (default `optax.adam(1e-2)`), or a sequence of
            `(optimizer, steps)` phases run one after the other (e.g.
            `[(optax.adam(0.1), 100), (optax.lbfgs(), 20)]`: Adam to reach the basin,
            L-BFGS to converge in it). Transformations with extra arguments (`optax.lbfgs`)
            get the value and a value function.
        steps: optimiser updates per restart (default 200); None with phases.
        restarts: independent initialisations, run in one vmapped program.
        key: PRNG key (or a batch of `restarts` keys): restart r starts at
            u₀ + init_spread·N(0, 1) drawn with key r. None: one restart at the guess itself.
        init_spread: standard deviation of the restart jitter in the unconstrained space
            (≈ relative spread of the parameters).
        surrogate: `"fast_sigmoid"` (default), `"sigmoid"`, an `AbstractSurrogate` (e.g. with
            another slope), or None. The slope is per mV of x = v − v_peak and should match
            the voltage steps of the last upstroke samples: for AdEx at dt = 0.1 ms, fit (and
            make the data) with v_peak = V_T + 5Δ_T and `SigmoidSurrogate(0.5)` (tests recover
            a, b, τ_w within 1 % from 30 % off); slopes ≥ 1 make the reset's surrogate term
            compound from spike to spike. For Izhikevich the grid surrogate misleads; use the
            sub-step spike times of `losses.subgrid_spike_times` with surrogate=None.
        tau, subthreshold: hyperparameters of `"van_rossum"` and `"trace_mse"`.
        solver, y0, t0: passed to `scjax.simulate` (and checked as it checks them, before
            anything is compiled).
        callback: called as `callback(step, losses)` after each step, `losses` `[restarts]`.
        n_steps: the number of steps when `current` is a stimulus object.
        chunk_size: optimiser steps per compiled call (default 50). Ctrl-C, or a
            `KeyboardInterrupt` raised by `callback`, stops the fit when the running chunk
            ends: `fit` then raises `FitInterrupted`, whose `result` is the best-so-far
            `FitResult` of the completed steps.

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
    surrogate = surrogate_from_name(surrogate)
    if isinstance(current, AbstractStimulus):
        # One neuron, T samples: the dense trace is small and the loss sees exactly the
        # samples simulate would draw (a stochastic stimulus is one frozen realisation).
        if n_steps is None:
            raise ValueError(
                f"n_steps is None: give the number of steps for a {type(current).__name__} stimulus"
            )
        if dt is None:
            raise ValueError("dt is required with current")
        current = sample_trace(current, n_steps, dt, t0, key=key)
    if current is None:
        objective, dtype = _model_objective(model, names, transforms, loss, t0)
    else:
        objective, dtype = _simulation_objective(
            model,
            names,
            transforms,
            current,
            dt,
            target,
            loss,
            tau,
            subthreshold,
            surrogate,
            solver,
            y0,
            t0,
        )

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


def _model_objective(model, names, transforms, loss, t0):
    if not callable(loss) or isinstance(loss, str):
        raise ValueError(
            "current is None: loss must then be a callable of the model, loss(model) -> scalar"
        )
    dtype = jnp.result_type(float)
    model_arr = jax.tree.map(lambda p: jnp.asarray(p, dtype), model)
    return Objective(
        model_arr,
        names,
        transforms,
        CallableLoss(loss),
        None,
        None,
        None,
        jnp.asarray(t0, dtype),
        None,
        None,
        None,
    ), dtype


def _simulation_objective(
    model,
    names,
    transforms,
    current,
    dt,
    target,
    loss,
    tau,
    subthreshold,
    surrogate,
    solver,
    y0,
    t0,
):
    """The objective of a fit to simulations, after every check `simulate` makes."""
    if dt is None:
        raise ValueError("dt is required with current")
    current_np = np.asarray(current)
    if current_np.ndim not in (1, 2) or current_np.shape[-1] == 0:
        raise ValueError(f"current must have shape [T] or [K, T], got {current_np.shape}")
    if not np.issubdtype(current_np.dtype, np.floating):
        current_np = current_np.astype(float)
    check_finite("current", current_np)
    dtype = jnp.asarray(current_np).dtype
    n_steps = current_np.shape[-1]
    _check_as_simulate(model, n_steps, dt, t0, dtype, solver, y0)
    if isinstance(loss, str):
        if loss not in LOSS_NAMES:
            raise ValueError(f"loss must be one of {LOSS_NAMES} or a callable, got {loss!r}")
        if loss == "fi_curve" and current_np.ndim != 2:
            raise ValueError(
                "loss='fi_curve' needs current of shape [K, T] (one sweep per "
                "current amplitude, e.g. losses.step_currents(...))"
            )
        check_finite_scalar("tau", tau, positive=True)
        if subthreshold is not None:
            check_finite_scalar("subthreshold", subthreshold)
        target_np, v_grid = prepare_target(loss, target, current_np, float(dt), float(t0))
        v_index = None if v_grid is None else jnp.arange(*v_grid)
        loss_fn = TrajectoryLoss(loss, float(dt), float(tau), subthreshold, v_index)
        target_arr = jnp.asarray(target_np, dtype)
    elif callable(loss):
        loss_fn, target_arr = CallableLoss(loss), target
    else:
        raise ValueError(f"loss must be one of {LOSS_NAMES} or a callable, got {loss!r}")
    # Leaves as arrays: a new parameter value reuses the compiled optimisation.
    model_arr = jax.tree.map(lambda p: jnp.asarray(p, dtype), model)
    objective = Objective(
        model_arr,
        names,
        transforms,
        loss_fn,
        jnp.asarray(current_np),
        target_arr,
        jnp.asarray(dt, dtype),
        jnp.asarray(t0, dtype),
        None if y0 is None else jnp.asarray(y0, dtype),
        surrogate,
        solver,
    )
    return objective, dtype


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
    if objective.current is None:
        return reason + " (the loss callable returned a non-finite value)"
    assert objective.dt is not None  # `fit` sets dt with the current
    from ..simulation import simulate

    first = objective.current if objective.current.ndim == 1 else objective.current[0]
    tr = simulate(
        objective.model,
        first,
        objective.dt,
        solver=objective.solver,
        y0=objective.y0,
        t0=objective.t0,
        throw=False,
    )
    if bool(np.any(np.asarray(tr.diverged))):
        return reason + (
            ": the simulation of the initial guess diverges (its state becomes "
            "non-finite). Use a smaller dt, a more stable integrator (e.g. "
            "integrator='rosenbrock'), or an initial guess in the model's "
            "physical range"
        )
    return reason + ": the simulation stays finite, so the loss itself is non-finite (check "
    "the target and the loss's hyperparameters)"
