"""Gradient-based parameter fitting: `scjax.fit`.

The optimisation runs in an unconstrained space (`scjax._transforms`), differentiates
`scjax.simulate` end to end with `jax.value_and_grad` (spike thresholds crossed with a
surrogate gradient), updates with any optax optimiser, and runs `restarts` initialisations as
one `jax.vmap`-ed, `jax.lax.scan`-ned, jit-compiled program.
"""

import math
import time
from collections.abc import Callable, Mapping, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float

from . import losses as _losses
from .simulation import simulate
from ._surrogate import AbstractSurrogate, surrogate_from_name
from ._trajectory import Trajectory
from ._transforms import AbstractTransform, default_transform
from ._validation import check_dt, check_finite_scalar
from .models._base import AbstractNeuronModel

#: The default optimiser, one object so that repeated fits reuse the compiled program.
DEFAULT_OPTIMIZER = optax.adam(1e-2)

LOSS_NAMES: tuple[str, ...] = ("trace_mse", "van_rossum", "spike_count", "firing_rate", "fi_curve")


class FitResult(eqx.Module):
    """The outcome of `scjax.fit`.

    Fields:
        model: the initial model with the fitted parameters of the best restart written in
            (Python floats, like a freshly constructed model).
        params: the fitted values of the best restart, name → float.
        loss: the best restart's lowest loss.
        best_restart: index of the restart with the lowest loss.
        loss_history: `[restarts, steps]`, the loss at each step before its update.
        restart_losses: `[restarts]`, the lowest loss each restart reached (its parameters
            are the ones kept; the last iterate is evaluated too).
        restart_params: name → `[restarts]` array of each restart's kept parameters.
        initial_params: name → `[restarts]` array of each restart's starting values.
        wall_time_s: seconds spent in `fit`, compilation included.
    """

    model: AbstractNeuronModel
    params: dict[str, float]
    loss: float
    best_restart: int
    loss_history: Float[np.ndarray, "restarts steps"]
    restart_losses: Float[np.ndarray, " restarts"]
    restart_params: dict[str, np.ndarray]
    initial_params: dict[str, np.ndarray]
    wall_time_s: float


# --- losses, as hashable modules so that the compiled optimisation is cached --------------


class _TrajectoryLoss(eqx.Module):
    """loss(trajectory, prepared target) for one named loss, with its hyperparameters."""

    name: str = eqx.field(static=True)
    dt: float = eqx.field(static=True)
    tau: float = eqx.field(static=True)
    subthreshold: float | None = eqx.field(static=True)
    v_offset: int = eqx.field(static=True)  # 1 when the target voltage omits y[0]

    def __call__(self, tr: Trajectory, target):
        if self.name == "trace_mse":
            return _losses.trace_mse(tr.v[self.v_offset:], target, subthreshold=self.subthreshold)
        if self.name == "van_rossum":
            return _losses.van_rossum(tr, target, self.dt, self.tau)
        if self.name == "spike_count":
            return _losses.spike_count(tr, target)
        # firing_rate and fi_curve (firing rate per sweep)
        return _losses.firing_rate(tr, target, self.dt)


class _CallableLoss(eqx.Module):
    fn: Callable = eqx.field(static=True)

    def __call__(self, tr, target):
        return self.fn(tr, target)


# --- target preparation (concrete, before anything is traced) -----------------------------


def _finite(name: str, arr: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it has {int(np.sum(~np.isfinite(arr)))} "
                         "non-finite values")
    return arr


def _spike_signal_target(target, n_steps: int, dt: float, t0: float) -> np.ndarray:
    """A `[T]` spike signal from a Trajectory, a bool raster `[T]`, or spike times (ms)."""
    if isinstance(target, Trajectory):
        sig = np.asarray(target.as_spike_signal(), dtype=float)
        if sig.shape != (n_steps,):
            raise ValueError(f"target Trajectory has {sig.shape[-1]} steps, current has {n_steps}")
        return _finite("target", sig)
    arr = np.asarray(target)
    if arr.dtype == bool:
        if arr.shape != (n_steps,):
            raise ValueError(f"target spike raster must have shape ({n_steps},), got {arr.shape}")
        return arr.astype(float)
    if arr.ndim != 1:
        raise ValueError(f"target spike times must be a 1-D array (ms), got shape {arr.shape}")
    _finite("target", arr.astype(float))
    if arr.size > 1 and np.any(np.diff(arr) < 0):
        raise ValueError("target spike times must be sorted")
    if arr.size == 0:
        return np.zeros(n_steps)
    try:
        return _losses.spike_times_to_signal(arr, n_steps, dt, t0=t0)
    except ValueError as e:
        raise ValueError(f"target spike {e}") from None


def _prepare_one(name: str, target, n_steps: int, dt: float, t0: float):
    """(prepared target array, v_offset) for one sweep."""
    if name == "trace_mse":
        v = np.asarray(target.v if isinstance(target, Trajectory) else target, dtype=float)
        if v.shape == (n_steps + 1,):
            return _finite("target", v), 0
        if v.shape == (n_steps,):
            return _finite("target", v), 1
        raise ValueError(f"target voltage must have shape ({n_steps + 1},) (including y[0]) or "
                         f"({n_steps},) for a current of {n_steps} samples, got {v.shape}")
    if name in ("spike_count", "firing_rate", "fi_curve") and not isinstance(target, Trajectory):
        arr = np.asarray(target)
        if arr.ndim == 0:
            value = float(arr)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"target {name.replace('_', ' ')} must be finite and >= 0, "
                                 f"got {value}")
            return np.asarray(value), 0
    sig = _spike_signal_target(target, n_steps, dt, t0)
    if name == "spike_count":
        return np.asarray(sig.sum()), 0
    if name in ("firing_rate", "fi_curve"):
        return np.asarray(sig.sum() * 1000.0 / (n_steps * dt)), 0
    return sig, 0  # van_rossum


def _prepare_target(name: str, target, current: np.ndarray, dt: float, t0: float):
    if target is None:
        raise ValueError(f"target is required for loss={name!r}")
    n_steps = current.shape[-1]
    if current.ndim == 1:
        return _prepare_one(name, target, n_steps, dt, t0)
    n_sweeps = current.shape[0]
    if isinstance(target, Trajectory):
        if target.y.ndim != 3 or target.y.shape[0] != n_sweeps:
            raise ValueError(f"target Trajectory must be batched over the {n_sweeps} sweeps of "
                             f"current, got y of shape {target.y.shape}")
        sweeps = [jax.tree.map(lambda x, k=k: x[k], target) for k in range(n_sweeps)]
    elif isinstance(target, np.ndarray | jax.Array) and np.asarray(target).dtype != object:
        arr = np.asarray(target)
        if arr.ndim == 0 or arr.shape[0] != n_sweeps:
            raise ValueError(f"target must have one entry per sweep ({n_sweeps}), got shape "
                             f"{arr.shape}")
        sweeps = list(arr)
    else:
        sweeps = list(target)
        if len(sweeps) != n_sweeps:
            raise ValueError(f"target must have one entry per sweep ({n_sweeps}), got "
                             f"{len(sweeps)}")
    prepared = [_prepare_one(name, s, n_steps, dt, t0) for s in sweeps]
    offsets = {o for _, o in prepared}
    if len(offsets) != 1:
        raise ValueError("target voltages must all have the same length")
    return np.stack([p for p, _ in prepared]), offsets.pop()


# --- parameters ---------------------------------------------------------------------------


def _resolve_params(model, params) -> tuple[tuple[str, ...], tuple[AbstractTransform, ...]]:
    if isinstance(params, str):
        params = (params,)
    if isinstance(params, Mapping):
        items = list(params.items())
    elif isinstance(params, Sequence):
        items = [(p, None) for p in params]
    else:
        raise ValueError(f"params must be a sequence of field names or a name → transform "
                         f"mapping, got {type(params).__name__}")
    if not items:
        raise ValueError("params must name at least one parameter to learn")
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        raise ValueError(f"params has duplicate names: {names}")
    transforms = []
    for name, transform in items:
        if not isinstance(name, str):
            raise ValueError(f"params must be field names (str), got {name!r}")
        if name not in model.param_names:
            if hasattr(model, name):
                raise ValueError(
                    f"params: {name!r} is not a float parameter field of "
                    f"{type(model).__name__}; learnable ones are {model.param_names}")
            raise ValueError(f"params: unknown parameter {name!r} for {type(model).__name__}; "
                             f"known ones are {model.param_names}")
        value = getattr(model, name)
        arr = np.asarray(value)
        if arr.shape != () or not (np.issubdtype(arr.dtype, np.floating)
                                  or np.issubdtype(arr.dtype, np.integer)):
            raise ValueError(f"params: {name!r} is not a float field (it holds {value!r})")
        value = float(arr)
        if transform is None:
            transform = default_transform(model, name, value)
        if not isinstance(transform, AbstractTransform):
            raise ValueError(f"params: the transform for {name!r} must be an "
                             f"AbstractTransform, got {type(transform).__name__}")
        if not transform.contains(value):
            raise ValueError(f"params: initial {name} = {value} is outside the range of its "
                             f"transform {transform}")
        transforms.append(transform)
    return tuple(names), tuple(transforms)


def _with_params(model, names, transforms, u):
    values = tuple(t.forward(u[j]) for j, t in enumerate(transforms))
    return eqx.tree_at(lambda m: tuple(getattr(m, n) for n in names), model, values)


def _restart_keys(key, restarts: int):
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape == ():
            return jax.random.split(key, restarts)
        batch_shape = key.shape
    else:  # raw uint32 keys
        if key.shape == (2,):
            return jax.random.split(key, restarts)
        batch_shape = key.shape[:-1]
    if batch_shape != (restarts,):
        raise ValueError(f"key must be one PRNG key or a batch of {restarts} keys (one per "
                         f"restart), got shape {key.shape}")
    return key


# --- the compiled optimisation -----------------------------------------------------------


@eqx.filter_jit
def _optimise(model, names, transforms, u_init, current, target, dt, t0, y0, loss_fn,
              phases, surrogate, solver, callback):
    def objective(u):
        m = _with_params(model, names, transforms, u)
        if current is None:
            return loss_fn(m)

        def one(c, tgt):
            tr = simulate(m, c, dt, solver=solver, y0=y0, t0=t0, throw=False,
                          surrogate=surrogate)
            return loss_fn(tr, tgt)

        if current.ndim == 1:
            return one(current, target)
        return jnp.mean(jax.vmap(one)(current, target))

    value_and_grad = jax.vmap(jax.value_and_grad(objective))

    def run_phase(u, best_u, best_loss, optimizer, steps, first_step):
        extra_args = isinstance(optimizer, optax.GradientTransformationExtraArgs)

        def update(g, state, u, value):
            if extra_args:  # e.g. optax.lbfgs wants the value and a value function
                return optimizer.update(g, state, u, value=value, grad=g, value_fn=objective)
            return optimizer.update(g, state, u)

        def body(carry, i):
            u, state, best_u, best_loss = carry
            loss, g = value_and_grad(u)
            ok = jnp.isfinite(loss) & jnp.all(jnp.isfinite(g), axis=-1)
            # A diverged simulation must not poison the optimiser state with NaN.
            g = jnp.where(ok[:, None], g, 0.0)
            better = ok & (loss < best_loss)
            best_u = jnp.where(better[:, None], u, best_u)
            best_loss = jnp.where(better, loss, best_loss)
            updates, state = jax.vmap(update)(g, state, u, jnp.where(ok, loss, 0.0))
            u = optax.apply_updates(u, updates)
            if callback is not None:
                jax.debug.callback(callback, i, loss, ordered=True)
            return (u, state, best_u, best_loss), loss

        state = jax.vmap(optimizer.init)(u)
        (u, _, best_u, best_loss), history = jax.lax.scan(
            body, (u, state, best_u, best_loss), first_step + jnp.arange(steps))
        return u, best_u, best_loss, history

    u, best_u = u_init, u_init
    best_loss = jnp.full(u_init.shape[:1], jnp.inf, u_init.dtype)
    histories, first_step = [], 0
    for optimizer, steps in phases:
        u, best_u, best_loss, history = run_phase(u, best_u, best_loss, optimizer, steps,
                                                  first_step)
        histories.append(history)
        first_step += steps
    final = jax.vmap(objective)(u)
    better = jnp.isfinite(final) & (final < best_loss)
    best_u = jnp.where(better[:, None], u, best_u)
    best_loss = jnp.where(better, final, best_loss)
    return best_u, best_loss, jnp.concatenate(histories).T


def _resolve_phases(optimizer, steps):
    if optimizer is None or isinstance(optimizer, optax.GradientTransformation):
        steps = 200 if steps is None else steps
        if not (isinstance(steps, int) and steps >= 1):
            raise ValueError(f"steps must be a positive int, got {steps!r}")
        return ((DEFAULT_OPTIMIZER if optimizer is None else optimizer, steps),)
    if steps is not None:
        raise ValueError("steps must be None when optimizer is a sequence of "
                         "(optimizer, steps) phases")
    try:
        phases = tuple((o, s) for o, s in optimizer)
    except (TypeError, ValueError):
        raise ValueError(f"optimizer must be an optax.GradientTransformation or a sequence of "
                         f"(optimizer, steps) pairs, got {type(optimizer).__name__}") from None
    if not phases:
        raise ValueError("optimizer: the sequence of phases is empty")
    for o, s in phases:
        if not isinstance(o, optax.GradientTransformation):
            raise ValueError(f"optimizer: each phase needs an optax.GradientTransformation, "
                             f"got {type(o).__name__}")
        if not (isinstance(s, int) and s >= 1):
            raise ValueError(f"optimizer: each phase needs a positive int of steps, got {s!r}")
    return phases


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
) -> FitResult:
    """Fit parameters of `model` by gradient descent through `scjax.simulate`.

    Each learnt parameter p is written as p = transform.forward(u) with u unconstrained
    (`scjax._transforms`: softplus for positive fields, scaled affine otherwise), so no step
    leaves the valid range. The loss is differentiated exactly with reverse mode through the
    fixed-step scan (each step `jax.checkpoint`-ed); spike thresholds and resets carry the
    derivative of `surrogate`. `restarts` initialisations run as one vmapped, jit-compiled
    `lax.scan` over `steps` optimiser updates, and the restart with the lowest loss wins.

    Arguments:
        model: the initial guess; parameters not in `params` stay fixed.
        params: names of float fields to learn (from `model.param_names`), or a mapping
            name → `AbstractTransform` (None for the default).
        current: `[T]` current trace, or `[K, T]` for K sweeps (the loss is averaged over the
            sweeps; `loss="fi_curve"` needs this form). None: `loss` is a callable of the
            model alone (`loss(model) -> scalar`), e.g. a `functools.partial` of
            `losses.fi_curve_loss`.
        dt: step, ms.
        target: what to match. For `"trace_mse"`: a `Trajectory` or a voltage array of shape
            `[T+1]` (y[0] included) or `[T]`. For spike losses: a `Trajectory`, a bool raster
            `[T]`, or a float array of spike times in ms; `"spike_count"` also takes a count,
            `"firing_rate"` / `"fi_curve"` a rate in Hz (per sweep). Batched per sweep for a
            `[K, T]` current.
        loss: `"trace_mse"` (optionally `subthreshold`), `"van_rossum"` (kernel `tau`, ms),
            `"spike_count"`, `"firing_rate"`, `"fi_curve"`, or a callable
            `loss(trajectory, target) -> scalar` (see `scjax.losses`).
        optimizer: an optax transformation (default `optax.adam(1e-2)`), or a sequence of
            `(optimizer, steps)` phases run one after the other in the same compiled program
            (e.g. `[(optax.adam(0.1), 100), (optax.lbfgs(), 20)]`: Adam to reach the basin,
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
        solver, y0, t0: passed to `scjax.simulate`.
        callback: called as `callback(step, losses)` after each step, `losses` `[restarts]`.

    Returns:
        A `FitResult`.

    A fit with `restarts=N` and `key=k` gives the same restarts as N fits with `restarts=1`
    and `key=jax.random.split(k, N)[r][None]`.
    """
    start = time.perf_counter()
    if not isinstance(model, AbstractNeuronModel):
        raise ValueError(f"model must be a scjax model, got {type(model).__name__}")
    names, transforms = _resolve_params(model, params)
    phases = _resolve_phases(optimizer, steps)
    if not (isinstance(restarts, int) and restarts >= 1):
        raise ValueError(f"restarts must be a positive int, got {restarts!r}")
    check_finite_scalar("init_spread", init_spread, nonnegative=True)
    check_finite_scalar("t0", t0)
    surrogate = surrogate_from_name(surrogate)

    if current is None:
        if not callable(loss) or isinstance(loss, str):
            raise ValueError("current is None: loss must then be a callable of the model, "
                             "loss(model) -> scalar")
        loss_fn, target_arr, dtype = _CallableLoss(loss), None, jnp.result_type(float)
        current_arr, dt_arr = None, None
    else:
        if dt is None:
            raise ValueError("dt is required with current")
        check_dt(dt)
        current_np = np.asarray(current)
        if current_np.ndim not in (1, 2) or current_np.shape[-1] == 0:
            raise ValueError(f"current must have shape [T] or [K, T], got {current_np.shape}")
        if not np.issubdtype(current_np.dtype, np.floating):
            current_np = current_np.astype(float)
        _finite("current", current_np)
        dtype = jnp.asarray(current_np).dtype
        if isinstance(loss, str):
            if loss not in LOSS_NAMES:
                raise ValueError(f"loss must be one of {LOSS_NAMES} or a callable, got {loss!r}")
            if loss == "fi_curve" and current_np.ndim != 2:
                raise ValueError("loss='fi_curve' needs current of shape [K, T] (one sweep per "
                                 "current amplitude, e.g. losses.step_currents(...))")
            check_finite_scalar("tau", tau, positive=True)
            if subthreshold is not None:
                check_finite_scalar("subthreshold", subthreshold)
            target_np, offset = _prepare_target(loss, target, current_np, float(dt), float(t0))
            loss_fn = _TrajectoryLoss(loss, float(dt), float(tau), subthreshold, offset)
            target_arr = jnp.asarray(target_np, dtype)
        elif callable(loss):
            loss_fn = _CallableLoss(loss)
            target_arr = target
        else:
            raise ValueError(f"loss must be one of {LOSS_NAMES} or a callable, got {loss!r}")
        current_arr = jnp.asarray(current_np)
        dt_arr = jnp.asarray(dt, dtype)

    u0 = jnp.stack([jnp.asarray(t.inverse(jnp.asarray(getattr(model, n), dtype)), dtype)
                    for n, t in zip(names, transforms)])
    if key is None:
        if restarts != 1:
            raise ValueError(f"key is None but restarts = {restarts}: pass "
                             "key=jax.random.key(seed) to draw the restarts")
        u_init = u0[None]
    else:
        keys = _restart_keys(key, restarts)
        noise = jax.vmap(lambda k: jax.random.normal(k, u0.shape, dtype))(keys)
        u_init = u0[None] + init_spread * noise

    # Leaves as arrays: a new parameter value reuses the compiled optimisation.
    model_arr = jax.tree.map(lambda p: jnp.asarray(p, dtype), model)
    best_u, best_loss, history = _optimise(
        model_arr, names, transforms, u_init, current_arr, target_arr, dt_arr,
        jnp.asarray(t0, dtype), None if y0 is None else jnp.asarray(y0, dtype), loss_fn,
        phases, surrogate, solver, callback)
    best_loss = np.asarray(best_loss)
    best = int(np.argmin(np.where(np.isfinite(best_loss), best_loss, np.inf)))
    values = {n: np.asarray(t.forward(best_u[:, j])) for j, (n, t) in
              enumerate(zip(names, transforms))}
    initial = {n: np.asarray(t.forward(u_init[:, j])) for j, (n, t) in
               enumerate(zip(names, transforms))}
    params_best = {n: float(v[best]) for n, v in values.items()}
    fitted = eqx.tree_at(lambda m: tuple(getattr(m, n) for n in names), model,
                         tuple(params_best[n] for n in names))
    return FitResult(
        model=fitted, params=params_best, loss=float(best_loss[best]), best_restart=best,
        loss_history=np.asarray(history), restart_losses=best_loss, restart_params=values,
        initial_params=initial, wall_time_s=time.perf_counter() - start)
