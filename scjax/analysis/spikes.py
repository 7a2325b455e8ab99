r"""Spike-train statistics and distances in JAX, batched over trains.

**Representation.** A spike train is a padded array of spike times `times [..., N]` with the
number of valid spikes `counts [...]`: entries `times[..., :counts]` are the spikes (sorted,
non-decreasing), the rest is padding and is ignored whatever its value. Any leading axes are
batch axes and broadcast between the two trains of a distance. `spike_times` converts a
boolean raster (e.g. `scjax.Trajectory.spikes`) to this form. Times and durations are in the
same unit (ms throughout scjax); rates are per that unit (multiply by 1000 for Hz).

Every function is jit- and vmap-able (sizes that set output shapes are Python numbers).
Concrete inputs are checked (sorted valid times, counts within the padding, positive τ,
t_start < t_stop) and violations raise `ValueError` naming the argument; traced inputs are
not inspected. Padding is replaced by a safe value before any arithmetic, so it never leaks
NaN into values or gradients.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from .._validation import check_finite_scalar, is_concrete

# --------------------------------------------------------------------------------------------
# Checks and padding
# --------------------------------------------------------------------------------------------


def _check_train(name: str, times, counts) -> tuple[jax.Array, jax.Array]:
    """Validate a padded train (when concrete) and return it as arrays."""
    if is_concrete(times):
        t = np.asarray(times)
        if t.ndim < 1:
            raise ValueError(f"{name} must have a trailing spike axis, got a scalar")
        if not np.issubdtype(t.dtype, np.number):
            raise ValueError(f"{name} must be a real array of spike times, got dtype {t.dtype}")
    if is_concrete(counts):
        c = np.asarray(counts)
        if not np.issubdtype(c.dtype, np.integer):
            if not np.all(np.mod(c, 1) == 0):
                raise ValueError(f"counts of {name} must be integers, got {c}")
        if np.any(c < 0):
            raise ValueError(f"counts of {name} must be >= 0, got {c}")
        if is_concrete(times) and np.any(c > np.shape(times)[-1]):
            raise ValueError(
                f"counts of {name} exceed its padded length {np.shape(times)[-1]}: {c}")
    if is_concrete(times) and is_concrete(counts):
        t = np.asarray(times, dtype=float)
        c = np.broadcast_to(np.asarray(counts), t.shape[:-1])
        valid = np.arange(t.shape[-1]) < c[..., None]
        if not np.all(np.isfinite(t[valid])):
            raise ValueError(f"{name} must be finite where valid (within counts)")
        pair_valid = valid[..., 1:]
        if np.any(np.diff(t, axis=-1)[pair_valid] < 0):
            bad = np.argwhere((np.diff(t, axis=-1) < 0) & pair_valid)[0]
            raise ValueError(
                f"{name} must be sorted (non-decreasing) within counts; unsorted at index "
                f"{tuple(int(b) for b in bad[:-1])} position {int(bad[-1]) + 1}")
    times = jnp.asarray(times)
    if not jnp.issubdtype(times.dtype, jnp.floating):
        times = times.astype(jnp.result_type(float))
    return times, jnp.asarray(counts)


def _valid(times, counts):
    return jnp.arange(times.shape[-1]) < jnp.asarray(counts)[..., None]


def _clean(times, counts, fill):
    """(times with padding replaced by `fill`, valid mask)."""
    mask = _valid(times, counts)
    return jnp.where(mask, times, fill), mask


def _check_positive(name, value):
    check_finite_scalar(name, value, positive=True)


def _check_window(t_start, t_stop):
    check_finite_scalar("t_start", t_start)
    check_finite_scalar("t_stop", t_stop)
    if is_concrete(t_start) and is_concrete(t_stop) and not float(t_stop) > float(t_start):
        raise ValueError(f"t_stop must be greater than t_start = {float(t_start)}, "
                         f"got {float(t_stop)}")


# --------------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------------


def spike_times(
    raster: Bool[ArrayLike, "... T"],
    dt: float,
    *,
    t0: float = 0.0,
    max_spikes: int | None = None,
) -> tuple[Float[Array, "... N"], Int[Array, "..."]]:
    """A boolean raster `[..., T]` → padded spike times `[..., N]` and counts `[...]`.

    `raster[..., n]` True means a spike in step n, at time `t0 + (n + 1)·dt` — the end of the
    step, the convention of `scjax.Trajectory.spike_times`. `max_spikes` (default T) is the
    padded length N; spikes beyond it are dropped (and `counts` is clipped to N). Padding is
    +inf, so padded arrays stay sorted.
    """
    check_finite_scalar("dt", dt, positive=True)
    check_finite_scalar("t0", t0)
    raster = jnp.asarray(raster)
    if raster.ndim < 1:
        raise ValueError("raster must have a trailing time axis, got a scalar")
    n_t = raster.shape[-1]
    n = n_t if max_spikes is None else int(max_spikes)
    if n < 1:
        raise ValueError(f"max_spikes must be >= 1, got {max_spikes}")
    return _spike_times(raster, jnp.asarray(dt, jnp.result_type(float)),
                        jnp.asarray(t0, jnp.result_type(float)), n)


@eqx.filter_jit
def _spike_times(raster, dt, t0, n: int):
    n_t = raster.shape[-1]
    flat = raster.reshape(-1, n_t).astype(bool)
    idx = jax.vmap(lambda r: jnp.nonzero(r, size=n, fill_value=n_t)[0])(flat)
    counts = jnp.minimum(jnp.sum(flat, axis=-1), n)
    times = t0 + (idx.astype(dt.dtype) + 1.0) * dt
    times = jnp.where(jnp.arange(n) < counts[:, None], times, jnp.inf)
    return times.reshape(*raster.shape[:-1], n), counts.reshape(raster.shape[:-1])


# --------------------------------------------------------------------------------------------
# Single-train statistics
# --------------------------------------------------------------------------------------------


def isi(times, counts) -> tuple[Float[Array, "... N-1"], Int[Array, "..."]]:
    """Inter-spike intervals `[..., N−1]` (NaN-padded) and their number `max(counts − 1, 0)`."""
    times, counts = _check_train("times", times, counts)
    return _isi(times, counts)


@jax.jit
def _isi(times, counts):
    t, mask = _clean(times, counts, 0.0)
    intervals = jnp.diff(t, axis=-1)
    ok = mask[..., 1:]
    return jnp.where(ok, intervals, jnp.nan), jnp.maximum(jnp.asarray(counts) - 1, 0)


def mean_rate(times, counts, t_start: float, t_stop: float) -> Float[Array, "..."]:
    """Spikes in [t_start, t_stop) divided by t_stop − t_start (per time unit; × 1000 for Hz
    when times are in ms)."""
    times, counts = _check_train("times", times, counts)
    _check_window(t_start, t_stop)
    return _mean_rate(times, counts, t_start, t_stop)


@jax.jit
def _mean_rate(times, counts, t_start, t_stop):
    t, mask = _clean(times, counts, t_start - 1.0)
    inside = mask & (t >= t_start) & (t < t_stop)
    return jnp.sum(inside, axis=-1) / (t_stop - t_start)


def cv_isi(times, counts) -> Float[Array, "..."]:
    r"""Coefficient of variation of the ISIs, $CV = \sigma_\text{ISI} / \mu_\text{ISI}$
    (population σ, ddof 0; Softky & Koch 1993). 1 for a Poisson train, 0 for a regular one;
    NaN with fewer than two ISIs."""
    times, counts = _check_train("times", times, counts)
    return _cv_isi(times, counts)


@jax.jit
def _cv_isi(times, counts):
    t, mask = _clean(times, counts, 0.0)
    ok = mask[..., 1:]
    intervals = jnp.where(ok, jnp.diff(t, axis=-1), 0.0)
    n = jnp.sum(ok, axis=-1)
    n_safe = jnp.maximum(n, 1)
    mean = jnp.sum(intervals, axis=-1) / n_safe
    var = jnp.sum(jnp.where(ok, (intervals - mean[..., None]) ** 2, 0.0), axis=-1) / n_safe
    mean_safe = jnp.where(mean > 0, mean, 1.0)
    return jnp.where((n >= 2) & (mean > 0), jnp.sqrt(var) / mean_safe, jnp.nan)


def fano_factor(times, counts, window: float, t_start: float, t_stop: float):
    r"""Fano factor of windowed spike counts, $F = \operatorname{Var}[n_k] / \mathbb{E}[n_k]$,
    with $n_k$ the spikes in $[t_\text{start} + kw, t_\text{start} + (k+1)w)$ for the
    $K = \lfloor (t_\text{stop} - t_\text{start})/w \rfloor$ whole windows (population
    variance, ddof 0; Fano 1947, Teich 1989). 1 for a Poisson train. NaN when no spike falls
    in the windows. `window`, `t_start`, `t_stop` must be concrete (they fix K)."""
    times, counts = _check_train("times", times, counts)
    _check_window(t_start, t_stop)
    _check_positive("window", window)
    n_win = int(np.floor((float(t_stop) - float(t_start)) / float(window) + 1e-12))
    if n_win < 2:
        raise ValueError(f"window must fit at least twice into [t_start, t_stop), got {window}")
    return _fano_factor(times, counts, window, t_start, t_stop, n_win)


@eqx.filter_jit
def _fano_factor(times, counts, window, t_start, t_stop, n_win: int):
    t, mask = _clean(times, counts, t_start - 1.0)
    k = jnp.floor((t - t_start) / window).astype(jnp.int32)
    inside = mask & (k >= 0) & (k < n_win)
    # histogram by scatter-add (out-of-window spikes add 0 to bin 0), batched by vectorize
    k = jnp.where(inside, k, 0)
    hist = jnp.vectorize(
        lambda kk, w: jnp.zeros(n_win, t.dtype).at[kk].add(w), signature="(n),(n)->(k)"
    )(k, inside.astype(t.dtype))
    mean = jnp.mean(hist, axis=-1)
    var = jnp.var(hist, axis=-1)
    return jnp.where(mean > 0, var / jnp.where(mean > 0, mean, 1.0), jnp.nan)


# --------------------------------------------------------------------------------------------
# Population synchrony
# --------------------------------------------------------------------------------------------


def exponential_traces(times, counts, t: Float[ArrayLike, " T"], tau: float):
    r"""Spike trains filtered with the causal exponential kernel,
    $f(t) = \sum_i e^{-(t - t_i)/\tau}\,\Theta(t - t_i)$, sampled at `t` `[T]` → `[..., T]`
    (van Rossum 2001; the signal whose L² distance `van_rossum_distance` computes exactly)."""
    times, counts = _check_train("times", times, counts)
    _check_positive("tau", tau)
    return _exponential_traces(times, counts, jnp.asarray(t), tau)


@jax.jit
def _exponential_traces(times, counts, t, tau):
    s, mask = _clean(times, counts, jnp.inf)
    lag = t[..., :] - s[..., :, None]  # [..., N, T]
    after = mask[..., :, None] & (lag >= 0)
    kernel = jnp.exp(-jnp.where(after, lag, 0.0) / tau)
    return jnp.sum(jnp.where(after, kernel, 0.0), axis=-2)


def synchrony(signals: Float[ArrayLike, "... n_neurons T"]) -> Float[Array, "..."]:
    r"""Golomb's population synchrony measure χ (Golomb & Rinzel 1993; Golomb 2007,
    Scholarpedia 2:1347):

    $$\chi^2 = \frac{\operatorname{Var}_t\!\big[\bar V(t)\big]}
                    {\frac1N \sum_i \operatorname{Var}_t\!\big[V_i(t)\big]},
      \qquad \bar V(t) = \frac1N \sum_i V_i(t)$$

    over signals `[..., N, T]` (membrane potentials, or spike trains filtered by
    `exponential_traces`). χ = 1 for identical signals, 0 for signals whose population mean is
    constant, ≈ 1/√N for N independent ones. NaN when every signal is constant."""
    x = jnp.asarray(signals)
    if x.ndim < 2:
        raise ValueError(f"signals must have shape [..., n_neurons, T], got {x.shape}")
    return _synchrony(x)


@jax.jit
def _synchrony(x):
    pop = jnp.var(jnp.mean(x, axis=-2), axis=-1)
    single = jnp.mean(jnp.var(x, axis=-1), axis=-1)
    ok = single > 0
    ratio = jnp.where(ok, pop / jnp.where(ok, single, 1.0), jnp.nan)
    return jnp.sqrt(jnp.clip(ratio, 0.0, None))


# --------------------------------------------------------------------------------------------
# Distances between two trains
# --------------------------------------------------------------------------------------------


def _van_rossum_sq(t1, n1, t2, n2, tau):
    a, ma = _clean(t1, n1, 0.0)
    b, mb = _clean(t2, n2, 0.0)

    def kernel_sum(x, mx, y, my):
        lag = jnp.abs(x[:, None] - y[None, :])
        return jnp.sum(jnp.where(mx[:, None] & my[None, :], jnp.exp(-lag / tau), 0.0))

    return 0.5 * (kernel_sum(a, ma, a, ma) + kernel_sum(b, mb, b, mb)
                  - 2.0 * kernel_sum(a, ma, b, mb))


_van_rossum_sq_vec = jax.jit(
    jnp.vectorize(_van_rossum_sq, signature="(n),(),(m),(),()->()"))


def van_rossum_distance(times1, counts1, times2, counts2, tau: float) -> Float[Array, "..."]:
    r"""Van Rossum (2001) distance with the causal exponential kernel, in closed form.

    With $f(t) = \sum_i e^{-(t - t_i)/\tau}\Theta(t - t_i)$ for each train,
    $$D^2 = \frac1\tau \int_{-\infty}^{\infty} (f_1 - f_2)^2\,dt
          = \frac12\Big[\sum_{i,j} e^{-|t_i - t_j|/\tau} + \sum_{i,j} e^{-|s_i - s_j|/\tau}
            - 2 \sum_{i,j} e^{-|t_i - s_j|/\tau}\Big]$$
    (Schrauwen & Van Campenhout 2007; Houghton & Kreuz 2012). One extra spike gives
    $D = \sqrt{1/2}$; identical trains give 0. Exact (no time grid), differentiable with
    respect to the spike times and τ; the square root is guarded so the gradient at D = 0 is
    0, not NaN. Cost O(N₁N₂) per pair; batch axes broadcast.
    """
    times1, counts1 = _check_train("times1", times1, counts1)
    times2, counts2 = _check_train("times2", times2, counts2)
    _check_positive("tau", tau)
    d2 = _van_rossum_sq_vec(times1, counts1, times2, counts2, jnp.asarray(tau))
    pos = d2 > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, d2, 1.0)), 0.0)


def _augmented(t, n, t_start, t_stop):
    """[t_start, spikes clipped to the window, padding → t_stop, t_stop]: Kreuz's auxiliary
    spikes at the edges; the padding sits on t_stop and only adds empty intervals."""
    s, _ = _clean(t, n, t_stop)
    s = jnp.clip(s, t_start, t_stop)
    return jnp.concatenate([t_start[None], s, t_stop[None]])


def _piecewise(t1, n1, t2, n2, t_start, t_stop):
    """The merged breakpoints of both augmented trains, and per interval (between consecutive
    breakpoints): its length, midpoint and, per train, previous and following spike."""
    a = _augmented(t1, n1, t_start, t_stop)
    b = _augmented(t2, n2, t_start, t_stop)
    knots = jnp.sort(jnp.concatenate([a, b]))
    length = jnp.diff(knots)
    mid = 0.5 * (knots[:-1] + knots[1:])

    def around(x):
        i = jnp.clip(jnp.searchsorted(x, mid, side="right"), 1, x.shape[0] - 1)
        return x[i - 1], x[i]

    return a, b, length, mid, around(a), around(b)


def _safe_div(num, den):
    ok = den > 0
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)


def _isi_distance(t1, n1, t2, n2, t_start, t_stop):
    _, _, length, _, (p1, f1), (p2, f2) = _piecewise(t1, n1, t2, n2, t_start, t_stop)
    x1, x2 = f1 - p1, f2 - p2
    ratio = _safe_div(jnp.abs(x1 - x2), jnp.maximum(x1, x2))
    return jnp.sum(ratio * length) / (t_stop - t_start)


def _spike_distance(t1, n1, t2, n2, t_start, t_stop):
    a, b, length, mid, (p1, f1), (p2, f2) = _piecewise(t1, n1, t2, n2, t_start, t_stop)

    def nearest(x, other):  # distance of each x to the closest spike of the other train
        return jnp.min(jnp.abs(x[:, None] - other[None, :]), axis=-1)

    def s_local(p, f, other):
        x_isi = f - p
        return _safe_div(nearest(p, other) * (f - mid) + nearest(f, other) * (mid - p), x_isi)

    x1, x2 = f1 - p1, f2 - p2
    s1, s2 = s_local(p1, f1, b), s_local(p2, f2, a)
    s = _safe_div(2.0 * (s1 * x2 + s2 * x1), (x1 + x2) ** 2)
    # S(t) is linear in t between breakpoints, so length × S(midpoint) integrates it exactly.
    return jnp.sum(s * length) / (t_stop - t_start)


_isi_distance_vec = jax.jit(
    jnp.vectorize(_isi_distance, signature="(n),(),(m),(),(),()->()"))
_spike_distance_vec = jax.jit(
    jnp.vectorize(_spike_distance, signature="(n),(),(m),(),(),()->()"))


def _distance_inputs(times1, counts1, times2, counts2, t_start, t_stop):
    times1, counts1 = _check_train("times1", times1, counts1)
    times2, counts2 = _check_train("times2", times2, counts2)
    _check_window(t_start, t_stop)
    dtype = jnp.result_type(times1.dtype, times2.dtype)
    return (times1.astype(dtype), counts1, times2.astype(dtype), counts2,
            jnp.asarray(t_start, dtype), jnp.asarray(t_stop, dtype))


def isi_distance(times1, counts1, times2, counts2, t_start: float, t_stop: float):
    r"""ISI-distance (Kreuz, Haas, Morelli, Abarbanel & Politi 2007, J. Neurosci. Methods
    165:151): with $x_n(t)$ the inter-spike interval of train n that contains t,

    $$D_I = \frac{1}{T} \int_{t_\text{start}}^{t_\text{stop}}
            \frac{|x_1(t) - x_2(t)|}{\max(x_1(t), x_2(t))}\,dt .$$

    Both trains get auxiliary spikes at t_start and t_stop (Kreuz et al. 2013), so x is
    defined on the whole window; spikes outside it are clipped to its edges. The integrand
    is piecewise constant, so the integral is an exact sum. In [0, 1); 0 for identical trains.
    """
    args = _distance_inputs(times1, counts1, times2, counts2, t_start, t_stop)
    return _isi_distance_vec(*args)


def spike_distance(times1, counts1, times2, counts2, t_start: float, t_stop: float):
    r"""SPIKE-distance (Kreuz, Chicharro, Houghton, Andrzejak & Mormann 2013,
    J. Neurophysiol. 109:1457). At time t, for train n: previous spike $t_P^{(n)}$,
    following spike $t_F^{(n)}$, $x_P = t - t_P$, $x_F = t_F - t$, $x_\text{ISI} = t_F - t_P$;
    $\Delta t_P^{(n)}$ ($\Delta t_F^{(n)}$) is the distance from $t_P^{(n)}$ ($t_F^{(n)}$) to
    the nearest spike of the other train. Then

    $$S_n = \frac{\Delta t_P^{(n)} x_F^{(n)} + \Delta t_F^{(n)} x_P^{(n)}}{x_\text{ISI}^{(n)}},
      \quad S(t) = \frac{S_1 x_\text{ISI}^{(2)} + S_2 x_\text{ISI}^{(1)}}
                        {2 \langle x_\text{ISI} \rangle^2},
      \quad D_S = \frac1T \int S(t)\,dt,$$

    with $\langle x_\text{ISI}\rangle$ the mean of the two ISIs. Auxiliary spikes at t_start
    and t_stop in both trains (the 2013 convention, without the later edge correction); S is
    linear between spikes, so the integral is exact. In [0, 1]; 0 for identical trains.
    """
    args = _distance_inputs(times1, counts1, times2, counts2, t_start, t_stop)
    return _spike_distance_vec(*args)


__all__ = [
    "cv_isi", "exponential_traces", "fano_factor", "isi", "isi_distance", "mean_rate",
    "spike_distance", "spike_times", "synchrony", "van_rossum_distance",
]
