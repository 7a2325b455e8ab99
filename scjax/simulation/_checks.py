"""Boundary checks of a run: every violation is a `ValueError` naming the argument.

Concrete values are checked here, before anything is traced; traced values are checked inside
the compiled loop with `eqx.error_if`.
"""

import diffrax
import jax
import numpy as np

from .._validation import check_dt, check_finite_scalar, is_concrete
from ..models import AbstractDiscreteTimeModel, AbstractNeuronModel, AbstractUpstrokeModel
from ..solvers import AbstractRosenbrockSolver, Euler
from ..stimulus import AbstractStimulus


def check_model(model) -> None:
    if not isinstance(model, AbstractNeuronModel):
        raise ValueError(f"model must be a scjax model, got {type(model).__name__}")


def check_time_grid(dt, t0, n_steps: int, dtype) -> None:
    """dt > 0 and finite, t0 finite, and the last sample time t0 + T·dt finite in the run's
    dtype (float32 overflows past 3.4e38 ms)."""
    check_dt(dt)
    check_finite_scalar("t0", t0)
    if is_concrete(dt) and is_concrete(t0):
        with np.errstate(over="ignore", invalid="ignore"):
            end = np.asarray(t0, dtype) + np.asarray(dt, dtype) * np.asarray(n_steps, dtype)
        if not np.isfinite(end):
            raise ValueError(
                f"t0 = {float(t0)} and dt = {float(dt)}: the time of the last "
                f"step, t0 + {n_steps}·dt, overflows {np.dtype(dtype).name}"
            )


def check_solver_for_models(solver: diffrax.AbstractSolver, dt, models, check_step: bool):
    """The model-dependent solver checks, on each of `models` (a few samples of a batch)."""
    for model in models:
        if isinstance(model, AbstractDiscreteTimeModel):
            _check_discrete_time_model(model, solver, dt)
        if check_step and isinstance(model, AbstractUpstrokeModel):
            _check_linearly_implicit_step(model, solver, dt)


def _check_discrete_time_model(model, solver, dt) -> None:
    """A discrete-time update (e.g. `FixedPointLIF`) is built for one dt and applied by one
    Euler step: any other dt or solver would be silently wrong."""
    if type(solver) is not Euler:
        raise ValueError(
            f"solver must be Euler for {type(model).__name__} (its step is the "
            f"discrete update), got {type(solver).__name__}"
        )
    if is_concrete(dt) and is_concrete(model.dt) and float(dt) != float(model.dt):
        raise ValueError(
            f"dt = {float(dt)} differs from the dt = {float(model.dt)} "
            f"{type(model).__name__} was built for"
        )


def _check_linearly_implicit_step(model, solver, dt) -> None:
    """Refuse a Rosenbrock step too large for a model's explosive upstroke (see
    `AbstractUpstrokeModel`, `solver.upstroke_limit`): the run would silently lose spikes."""
    if not isinstance(solver, AbstractRosenbrockSolver):
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


def check_dense_current(current, *, batched: bool):
    """A current array: `[T]` (or `[B, T]` for a batch), non-empty, real, finite. Checked in
    one vectorised pass whatever its size. Returns it as a NumPy array or the traced array."""
    allowed = (1, 2) if batched else (1,)
    shape_text = "[T] or [B, T]" if batched else "[T]"
    arr = np.asarray(current) if is_concrete(current) else current
    if arr.ndim not in allowed:
        raise ValueError(f"current must have shape {shape_text}, got shape {arr.shape}")
    if arr.shape[-1] == 0 or (arr.ndim == 2 and arr.shape[0] == 0):
        raise ValueError(f"current must be non-empty, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"current must be a real float array, got dtype {arr.dtype}")
    if is_concrete(current):
        finite = np.isfinite(arr)
        if not finite.all():
            bad = tuple(int(i) for i in np.unravel_index(int(np.argmin(finite)), arr.shape))
            where = bad[0] if arr.ndim == 1 else bad
            raise ValueError(f"current must be finite, got {arr[bad]} at index {where}")
    return arr


def n_steps_of(current, n_steps) -> int:
    """The number of steps: the length of a sampled current, or `n_steps` for a stimulus."""
    if isinstance(current, AbstractStimulus):
        known = current.n_samples
        if n_steps is None:
            if known is None:
                raise ValueError(
                    f"n_steps is None: give the number of steps for a "
                    f"{type(current).__name__} stimulus"
                )
            return known
        if not (isinstance(n_steps, int) and not isinstance(n_steps, bool) and n_steps >= 1):
            raise ValueError(f"n_steps must be a positive int, got {n_steps!r}")
        if known is not None and known != n_steps:
            raise ValueError(f"n_steps = {n_steps} but the stimulus has {known} samples")
        return n_steps
    length = int(np.shape(current)[-1])
    if n_steps is not None and n_steps != length:
        raise ValueError(f"n_steps = {n_steps!r} but current has {length} samples")
    return length


def check_y0(y0, shape: tuple[int, ...], model) -> None:
    if y0 is None or not is_concrete(y0):
        return
    arr = np.asarray(y0)
    if arr.shape != shape:
        raise ValueError(
            f"y0 must have shape {shape} for {type(model).__name__} "
            f"{model.state_names}, got {arr.shape}"
        )
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"y0 must be a real array, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"y0 must be finite, got {arr if arr.size <= 8 else 'non-finite rows'}")
