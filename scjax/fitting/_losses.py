"""The loss functions behind `scjax.losses` (the public module; its docstring has the table)."""

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._trajectory import Trajectory
from .._validation import check_sample_grid, is_concrete, positive_at_run_time


def _voltage(x) -> Array:
    return x.v if isinstance(x, Trajectory) else jnp.asarray(x)


def _checked_signal(name: str, x, *, batched: bool = True) -> Array:
    """A spike signal `[..., T]` (T >= 1) of finite real values; a Trajectory's own signal is
    not inspected (it may carry a surrogate, and the run already checked its state)."""
    if isinstance(x, Trajectory):
        return x.as_spike_signal()
    if is_concrete(x):
        arr = np.asarray(x)
        if arr.dtype != bool and not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"{name} must be a real array, got {x!r}")
        if arr.ndim < 1 or arr.shape[-1] == 0 or (arr.ndim > 1 and not batched):
            shape = "[..., T]" if batched else "[T]"
            raise ValueError(f"{name} must have shape {shape} with T >= 1, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
    return jnp.asarray(x)


def _checked_target(name: str, value):
    """A target value (scalar, or one per sweep): real and finite when concrete."""
    if is_concrete(value):
        arr = np.asarray(value)
        if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
            raise ValueError(f"{name} must be a real number, got {value!r}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite, got {value!r}")
        return jnp.asarray(value)
    return value


def _checked_dt(dt, n_steps: int):
    """`dt` checked as `scjax.simulate` checks it, for any array type (traced: at run time)."""
    if is_concrete(dt):
        check_sample_grid(n_steps, dt)
        return dt
    return positive_at_run_time("dt", dt)


# --- traces -------------------------------------------------------------------------------


def trace_mse(
    pred: Trajectory | Float[ArrayLike, " N"],
    target: Trajectory | Float[ArrayLike, " N"],
    *,
    subthreshold: float | None = None,
) -> Float[Array, ""]:
    r"""Mean squared difference of membrane potentials, mV².

    $$L = \frac{1}{|S|}\sum_{n \in S} (v_n - v^*_n)^2, \quad
      S = \{n : v^*_n < \theta\}\ \text{(or all samples when `subthreshold` is None)}$$

    Arguments:
        pred: a `Trajectory` (its `v` is used) or a voltage array.
        target: the same, with the same shape.
        subthreshold: θ in mV: only samples where the *target* is below θ count. Spikes are
            brief and their exact shape and timing dominate an unmasked MSE, so fitting the
            sub-threshold dynamics first is often better conditioned. The mask depends only on
            the target, so it carries no gradient.
    """
    for name, x in (("pred", pred), ("target", target)):
        if not isinstance(x, Trajectory):
            _checked_signal(name, x)  # real, finite, [..., N] with N >= 1
    v, v_target = _voltage(pred), _voltage(target)
    if not jnp.issubdtype(v.dtype, jnp.floating):
        v = v.astype(jnp.result_type(float))
    if v.shape != v_target.shape:
        raise ValueError(f"target must have the shape of pred, {v.shape}, got {v_target.shape}")
    sq = (v - v_target) ** 2
    if subthreshold is None:
        return jnp.mean(sq)
    mask = jax.lax.stop_gradient(v_target < subthreshold)
    return jnp.sum(jnp.where(mask, sq, 0.0)) / jnp.maximum(jnp.sum(mask), 1)


# --- spike trains -------------------------------------------------------------------------


def spike_times_to_signal(
    times: Float[ArrayLike, " K"], n_steps: int, dt: float, *, t0: float = 0.0
) -> np.ndarray:
    """Spike times (ms) as a `[n_steps]` count signal on the grid of `scjax.simulate`.

    Step n runs from t0 + n·dt to t0 + (n+1)·dt and a spike in it is reported at its end, so a
    spike at time s lands in bin round((s − t0)/dt) − 1. Times must be finite and round to a
    step end t0 + k·dt with k in 1..n_steps (the nearest; a time dt/2 below t0 + dt is not);
    a bin may hold more than one spike (then its value is the count).
    """
    if not (isinstance(n_steps, int | np.integer) and n_steps >= 1):
        raise ValueError(f"n_steps must be a positive int, got {n_steps!r}")
    check_sample_grid(int(n_steps), dt, t0)
    times = np.asarray(times, dtype=float).reshape(-1)
    if not np.all(np.isfinite(times)):
        raise ValueError("times must be finite")
    idx = np.rint((times - t0) / dt).astype(np.int64) - 1
    if np.any(idx < 0) or np.any(idx >= n_steps):
        raise ValueError(
            f"times must lie in ({t0}, {t0 + n_steps * dt}] ms (the simulated window; each "
            f"time is binned to its nearest step end t0 + k·dt, k = 1..n_steps), got "
            f"min {times.min():.6g}, max {times.max():.6g}"
        )
    return np.bincount(idx, minlength=n_steps).astype(float)


def exponential_filter(signal: Float[ArrayLike, " T"], dt: float, tau: float) -> Float[Array, " T"]:
    r"""Causal exponential filtering on the grid: f_n = e^{−dt/τ} f_{n−1} + s_n.

    For a spike signal, f_n is the sum over spikes up to bin n of exp(−(t_n − t_spike)/τ):
    the van Rossum kernel (unit height) sampled at the grid times, exactly.
    """
    signal = _checked_signal("signal", signal, batched=False)
    if not jnp.issubdtype(signal.dtype, jnp.floating):  # counts or a bool raster
        signal = signal.astype(jnp.result_type(float))
    dt = _checked_dt(dt, signal.shape[-1])
    tau = positive_at_run_time("tau", tau)
    decay = jnp.exp(-jnp.asarray(dt, signal.dtype) / tau)

    def step(f, s):
        f = decay * f + s
        return f, f

    _, out = jax.lax.scan(step, jnp.zeros((), signal.dtype), signal)
    return out


def van_rossum(
    pred: Trajectory | Float[ArrayLike, " T"],
    target: Trajectory | Float[ArrayLike, " T"],
    dt: float,
    tau: float = 10.0,
) -> Float[Array, ""]:
    r"""Squared van Rossum (2001) distance between two spike signals on the time grid.

    $$D^2 = \frac{1}{\tau}\int_0^\infty \big(f(t) - g(t)\big)^2\,dt, \quad
      f(t) = \sum_i e^{-(t - t_i)/\tau}\,\Theta(t - t_i)$$

    For spikes on the grid, f − g decays as e^{−(t−t_n)/τ} between grid times, so the integral
    is exact: with e_n the difference of the two `exponential_filter` outputs and
    ρ = e^{−dt/τ},

    $$D^2 = \tfrac12\Big[(1 - \rho^2)\sum_{n<T-1} e_n^2 + e_{T-1}^2\Big]$$

    (the last term is the tail after the window). This equals the closed form on spike
    *times*, ½ Σᵢⱼ e^{−|tᵢ−tⱼ|/τ} + ½ Σᵢⱼ e^{−|sᵢ−sⱼ|/τ} − Σᵢⱼ e^{−|tᵢ−sⱼ|/τ} (what
    `scjax.analysis` computes), when the spike times are the grid times of the signals; unlike
    that form it is differentiable through the surrogate `spike_signal` of a simulation.
    One spike missing or extra contributes ½; one spike shifted by δ ≪ τ contributes ≈ δ/τ.

    Arguments:
        pred, target: `Trajectory`s (their `spike_signal`) or `[T]` spike signals (0/1 or
            counts per bin; see `spike_times_to_signal`).
        dt: the grid step, ms.
        tau: the kernel time constant, ms.

    Returns D² (dimensionless); the distance itself is its square root (whose gradient is
    singular at D = 0, hence the squared loss).
    """
    s, s_target = (
        _checked_signal("pred", pred, batched=False),
        _checked_signal("target", target, batched=False),
    )
    dt = _checked_dt(dt, s.shape[-1])
    tau = positive_at_run_time("tau", tau)
    if s.shape != s_target.shape:
        raise ValueError(f"target must have the shape of pred, {s.shape}, got {s_target.shape}")
    s_target = s_target.astype(s.dtype)
    e = exponential_filter(s - s_target, dt, tau)  # linear: filter(s) − filter(s*)
    rho2 = jnp.exp(-2.0 * jnp.asarray(dt, s.dtype) / tau)
    return 0.5 * ((1.0 - rho2) * jnp.sum(e[:-1] ** 2) + e[-1] ** 2)


def spike_count(
    pred: Trajectory | Float[ArrayLike, " T"], target_count: float | Float[ArrayLike, ""]
) -> Float[Array, ""]:
    """(N − N*)², N = Σ spike_signal (differentiable through the surrogate)."""
    target_count = _checked_target("target_count", target_count)
    return (jnp.sum(_checked_signal("pred", pred)) - target_count) ** 2


def firing_rate_of(pred: Trajectory | Float[ArrayLike, " T"], dt: float) -> Float[Array, ""]:
    """Mean firing rate in Hz: Σ spike_signal / (T·dt) with dt in ms."""
    s = _checked_signal("pred", pred)
    dt = _checked_dt(dt, s.shape[-1])
    return jnp.sum(s, axis=-1) * (1000.0 / (s.shape[-1] * dt))


def firing_rate(
    pred: Trajectory | Float[ArrayLike, " T"],
    target_rate: float | Float[ArrayLike, ""],
    dt: float,
) -> Float[Array, ""]:
    """(r − r*)² with r = `firing_rate_of(pred, dt)`, Hz²."""
    target_rate = _checked_target("target_rate", target_rate)
    return (firing_rate_of(pred, dt) - target_rate) ** 2


# --- F–I curve ----------------------------------------------------------------------------


def step_currents(amplitudes: Float[ArrayLike, " K"], n_steps: int, *, onset: int = 0):
    """`[K, n_steps]` step currents: 0 before sample `onset`, `amplitudes[k]` from it on."""
    amplitudes = jnp.asarray(amplitudes, dtype=jnp.result_type(float))
    on = jnp.arange(n_steps) >= onset
    return jnp.where(on[None, :], amplitudes[:, None], 0.0)


def fi_curve(
    model, currents: Float[ArrayLike, "K T"], dt: float, *, surrogate="sigmoid", solver=None
) -> Float[Array, " K"]:
    """Firing rate (Hz) of `model` for each current trace in `currents` (one vmapped
    `scjax.simulate`); differentiable through `surrogate`."""
    from ..simulation import simulate

    currents = jnp.asarray(currents)
    if currents.ndim != 2:
        raise ValueError(f"currents must have shape [K, T], got {currents.shape}")
    rates = jax.vmap(
        lambda c: firing_rate_of(simulate(model, c, dt, solver=solver, surrogate=surrogate), dt)
    )(currents)
    return rates


def fi_curve_loss(
    model,
    currents: Float[ArrayLike, "K T"],
    target_rates: Float[ArrayLike, " K"],
    dt: float,
    *,
    surrogate="sigmoid",
    solver=None,
) -> Float[Array, ""]:
    """Mean over the K currents of (r_k − r_k*)², Hz²."""
    rates = fi_curve(model, currents, dt, surrogate=surrogate, solver=solver)
    target_rates = jnp.asarray(target_rates, rates.dtype)
    if target_rates.shape != rates.shape:
        raise ValueError(f"target_rates must have shape {rates.shape}, got {target_rates.shape}")
    return jnp.mean((rates - target_rates) ** 2)


# --- spike times with sub-step resolution -------------------------------------------------


def subgrid_spike_times(
    pred: Trajectory, threshold, max_spikes: int
) -> tuple[Float[Array, " K"], Float[Array, " K"]]:
    r"""Spike times with sub-step resolution, as a differentiable function of the trajectory.

    For each step n that spiked, the crossing of `threshold` is extrapolated linearly from
    the two samples before it, $t^* = t_n + dt\cdot\mathrm{clip}\big((\theta - v_n)/(v_n -
    v_{n-1}), 0, 1\big)$ (the sample after the step holds the reset value, not the overshoot).
    Its gradient is the implicit-function spike-time derivative −(∂v/∂θ)/v̇ of the hard
    recurrence, with no surrogate: use it with `simulate(surrogate=None)` when the grid
    spike signal's surrogate misleads (the Izhikevich upstroke overshoots v_peak by tens of mV
    within one 0.1 ms step, see `scjax.fit`).

    Arguments:
        pred: an unbatched `Trajectory`.
        threshold: the spike threshold (v_peak), mV.
        max_spikes: static size K of the output (extra spikes are dropped).

    Returns (times `[K]` in ms, mask `[K]` 1.0/0.0 marking the real spikes).
    """
    v, t, spikes = pred.v, pred.t, pred.spikes
    assert spikes is not None  # the fit simulates with the raster (simulate's default)
    (idx,) = jnp.nonzero(spikes, size=max_spikes, fill_value=0)
    mask = (jnp.arange(max_spikes) < jnp.sum(spikes)).astype(v.dtype)
    v_n, v_m = v[idx], v[jnp.maximum(idx - 1, 0)]
    # The step before a crossing is rising; the floor only guards a division by ~0.
    frac = jnp.clip((threshold - v_n) / jnp.maximum(v_n - v_m, 1e-3), 0.0, 1.0)
    return t[idx] + (t[1] - t[0]) * frac, mask


def van_rossum_times(
    times: Float[ArrayLike, " K"],
    mask: Float[ArrayLike, " K"],
    target_times: Float[ArrayLike, " M"],
    target_mask: Float[ArrayLike, " M"],
    tau: float = 10.0,
) -> Float[Array, ""]:
    r"""Squared van Rossum distance of two spike trains given as masked spike times (closed
    form, no grid): ½Σᵢⱼ e^{−|tᵢ−tⱼ|/τ} + ½Σᵢⱼ e^{−|sᵢ−sⱼ|/τ} − Σᵢⱼ e^{−|tᵢ−sⱼ|/τ}, over the
    entries whose mask is 1 (as `scjax.analysis.van_rossum_distance`², but smooth in the times
    and the masks, so it can be a fitting loss with `subgrid_spike_times`)."""
    tau = positive_at_run_time("tau", tau)

    def k(a, ma, b, mb):
        lag = jnp.abs(a[:, None] - b[None, :])
        return jnp.sum(jnp.exp(-lag / tau) * ma[:, None] * mb[None, :])

    t1, m1 = jnp.asarray(times), jnp.asarray(mask)
    t2, m2 = jnp.asarray(target_times), jnp.asarray(target_mask)
    return 0.5 * k(t1, m1, t1, m1) + 0.5 * k(t2, m2, t2, m2) - k(t1, m1, t2, m2)


# --- located (in-step) spike times --------------------------------------------------------


def located_spike_times(pred: Trajectory) -> tuple[Float[Array, " K"], Float[Array, " K"]]:
    """The spike times of a `simulate(..., spikes="times")` run as (times `[K]`, mask `[K]`).

    K is the run's `max_spikes`; `mask` is 1.0 for the `spike_count` recorded spikes (those
    the buffer holds) and 0.0 after them, where `times` holds the window end `t[-1]` instead
    of the buffer's +inf (finite, so that `spike_time_mse` and `van_rossum_times` stay finite
    and differentiable). With `events="in_step"` the times are the located crossings and
    carry their implicit-function derivative; with the default end-of-step rule they are grid
    times (derivative zero).
    """
    buffer = pred.spike_time_buffer
    if buffer is None:
        raise ValueError(
            "pred has no spike-time buffer: simulate with spikes='times' "
            "(and events='in_step' for sub-step, differentiable times)"
        )
    count = jax.lax.stop_gradient(pred.spike_count)  # an int without a surrogate
    mask = jnp.arange(buffer.shape[-1]) < jnp.asarray(count)[..., None]
    t_end = pred.t[..., -1:]
    return jnp.where(mask, buffer, t_end), mask.astype(buffer.dtype)


def spike_time_mse(
    times: Float[ArrayLike, " K"],
    mask: Float[ArrayLike, " K"],
    target_times: Float[ArrayLike, " M"],
    target_mask: Float[ArrayLike, " M"],
    t_end: float | Float[ArrayLike, ""],
) -> Float[Array, ""]:
    r"""Mean squared difference of the k-th spike times, ms², a differentiable spike-time loss
    for located (in-step) spike times.

    $$L = \frac{1}{\max(N^*, 1)} \sum_{k} (\tilde t_k - \tilde s_k)^2, \qquad
      \tilde t_k = \begin{cases} t_k & k < N \\ t_{\mathrm{end}} & k \ge N \end{cases}$$

    (s̃ likewise from the target's N* spikes; both trains padded to one length). A spike
    count that differs from the target's is penalised by *padding to the window end*: a
    missing spike counts as a spike at t_end, an extra one is compared with t_end. Why this
    and not a count term (N − N*)²: a count is piecewise constant (no derivative, and a jump
    in the loss), while with the padding the loss is continuous in the parameters when a
    spike leaves or enters the window at t_end (its residual goes to 0 there) — the way the
    count of a tonic train changes — and an extra spike's residual pulls it towards the end
    of the window. A spike appearing or vanishing inside the train (a burst gaining a spike)
    still shifts the k-th/k-th pairing, as for any ordered spike-time distance: use
    `van_rossum_times` there.

    Arguments:
        times, mask: the spike times in ms and their 1.0/0.0 mask (`located_spike_times`).
        target_times, target_mask: the same for the target.
        t_end: the end of the simulated window, ms (padding of both trains).

    Returns L in ms² (divided by the target's count, so that its scale does not depend on
    the buffer sizes).
    """
    t1, m1 = jnp.asarray(times), jnp.asarray(mask)
    t2, m2 = jnp.asarray(target_times), jnp.asarray(target_mask)
    dtype = jnp.result_type(t1, t2, float)
    size = max(t1.shape[-1], t2.shape[-1])
    t_end = jnp.asarray(t_end, dtype)

    def padded(t, m):
        t = jnp.where(m > 0, t.astype(dtype), t_end)
        return jnp.concatenate([t, jnp.broadcast_to(t_end, (size - t.shape[-1],))])

    r = padded(t1, m1) - padded(t2, m2)
    return jnp.sum(r**2) / jnp.maximum(jnp.sum(m2), 1.0)
