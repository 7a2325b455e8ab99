r"""Kreuz's time-resolved, parameter-free distances between two spike trains: the ISI-distance
and the SPIKE-distance, exact on padded trains (the integrands are piecewise constant and
piecewise linear between spikes, so each integral is a finite sum).

**Edges.** Both measures need, at every t of the window, the previous and following spike of
each train. Two conventions exist for the stretches before the first and after the last
spike, chosen by `edge_correction`:

- `False` (default, Kreuz et al. 2013): auxiliary spikes at t_start and t_stop in both trains;
  spikes outside the window are clipped to its edges. PySpike gives these values when t_start
  and t_stop are passed to it as spikes.
- `True` (Kreuz, Mulansky & Bozanic 2015, J. Neurophysiol. 113:3432; PySpike's default,
  Mulansky & Kreuz 2016, SoftwareX 5:183): before the first spike s₀ the ISI is
  max(s₀ − t_start, s₁ − s₀), after the last s_L it is max(t_stop − s_L, s_L − s_{L−1}) (a
  train with one spike uses the distance to the edge); for the SPIKE-distance the local
  dissimilarity of a train is held constant on those stretches at the value of its first
  (last) spike, and the nearest-spike distances see each train's auxiliary spikes mirrored by
  its first and last ISI (min(t_start, 2s₀ − s₁), max(t_stop, 2s_L − s_{L−1})). As in PySpike,
  spikes outside [t_start, t_stop] are dropped, repeated times count once, and an empty train
  (or one whose only spike is on t_start) is read as spikes at t_start and t_stop. A train
  with a single spike at 300 against one at 700 on [0, 1000] then has SPIKE-distance 0.531
  (0.272 without the correction): the stretch before the first spike no longer counts as an
  inter-spike interval that started at t_start.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from ._trains import check_train, check_window, clean


def _augmented(t, n, t_start, t_stop):
    """[t_start, spikes clipped to the window, padding → t_stop, t_stop]: Kreuz's auxiliary
    spikes at the edges; the padding sits on t_stop and only adds empty intervals."""
    s, _ = clean(t, n, t_stop)
    s = jnp.clip(s, t_start, t_stop)
    return jnp.concatenate([t_start[None], s, t_stop[None]])


def _intervals(a, b):
    """Length and midpoint of each interval between consecutive merged breakpoints."""
    knots = jnp.sort(jnp.concatenate([a, b]))
    return jnp.diff(knots), 0.5 * (knots[:-1] + knots[1:])


def _around(x, mid):
    """(index of the previous breakpoint of `x`, previous, following) for each midpoint."""
    i = jnp.clip(jnp.searchsorted(x, mid, side="right"), 1, x.shape[0] - 1)
    return i - 1, x[i - 1], x[i]


def _safe_div(num, den):
    ok = den > 0
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)


def _nearest(x, other):
    """Distance of each x to the closest entry of `other`."""
    return jnp.min(jnp.abs(x[:, None] - other[None, :]), axis=-1)


def _spike_profile_integral(s1, x1, s2, x2, length):
    r"""$\int S\,dt$ with $S = (S_1 x_2 + S_2 x_1) / (2\langle x\rangle^2)$ evaluated at the
    interval midpoints: S is linear in t on each interval, so the midpoint rule is exact."""
    s = _safe_div(2.0 * (s1 * x2 + s2 * x1), (x1 + x2) ** 2)
    return jnp.sum(s * length)


# --------------------------------------------------------------------------------------------
# Kreuz et al. (2013): auxiliary spikes on the edges
# --------------------------------------------------------------------------------------------


def _isi_distance(t1, n1, t2, n2, t_start, t_stop):
    a = _augmented(t1, n1, t_start, t_stop)
    b = _augmented(t2, n2, t_start, t_stop)
    length, mid = _intervals(a, b)
    _, p1, f1 = _around(a, mid)
    _, p2, f2 = _around(b, mid)
    x1, x2 = f1 - p1, f2 - p2
    ratio = _safe_div(jnp.abs(x1 - x2), jnp.maximum(x1, x2))
    return jnp.sum(ratio * length) / (t_stop - t_start)


def _spike_distance(t1, n1, t2, n2, t_start, t_stop):
    a = _augmented(t1, n1, t_start, t_stop)
    b = _augmented(t2, n2, t_start, t_stop)
    length, mid = _intervals(a, b)
    _, p1, f1 = _around(a, mid)
    _, p2, f2 = _around(b, mid)

    def s_local(p, f, other):
        return _safe_div(_nearest(p, other) * (f - mid) + _nearest(f, other) * (mid - p), f - p)

    s1, s2 = s_local(p1, f1, b), s_local(p2, f2, a)
    return _spike_profile_integral(s1, f1 - p1, s2, f2 - p2, length) / (t_stop - t_start)


# --------------------------------------------------------------------------------------------
# Kreuz, Mulansky & Bozanic (2015) / PySpike: edge-corrected
# --------------------------------------------------------------------------------------------


class _EdgeCorrectedTrain(eqx.Module):
    """A train as PySpike reads it (module docstring), with what its edge correction needs.

    Fields:
        count: the number of spikes N after PySpike's reading.
        knots: `[t_start, s₀ … s_{N−1}, t_stop …]` (padding on t_stop).
        first_isi, last_isi: the corrected ISIs before s₀ and after s_{N−1}.
        candidates: what nearest-spike distances to this train see: its spikes and the
            auxiliary spikes mirrored by its first and last ISI.
    """

    count: Int[Array, ""]
    knots: Float[Array, " N+4"]
    first_isi: Float[Array, ""]
    last_isi: Float[Array, ""]
    candidates: Float[Array, " N+4"]

    def at(self, mid):
        """(before the first spike, after the last spike, previous, following, ISI) at each
        interval midpoint."""
        i, p, f = _around(self.knots, mid)
        before, after = i == 0, i == self.count
        x = jnp.where(before, self.first_isi, jnp.where(after, self.last_isi, f - p))
        return before, after, p, f, x


def _edge_corrected_train(t, n, t_start, t_stop) -> _EdgeCorrectedTrain:
    # Two spare slots: an empty train becomes [t_start, t_stop].
    t = jnp.concatenate([t, jnp.full(2, t_stop, t.dtype)])
    position = jnp.arange(t.shape[0])
    valid = position < n
    s = jnp.where(valid, t, t_stop)
    first_of_run = jnp.concatenate([jnp.ones(1, bool), s[1:] != s[:-1]])
    keep = valid & (s >= t_start) & (s <= t_stop) & first_of_run
    count = jnp.sum(keep)
    s = jnp.sort(jnp.where(keep, s, jnp.inf))
    s = jnp.where(position < count, s, t_stop)
    lone = (count == 0) | ((count == 1) & (s[0] == t_start))
    s = jnp.where(lone, jnp.where(position == 0, t_start, t_stop), s)
    count = jnp.where(lone, 2, count)

    several = count >= 2
    first, second = s[0], s[1]
    last, before_last = s[jnp.maximum(count - 1, 0)], s[jnp.maximum(count - 2, 0)]
    aux_start = jnp.where(several, jnp.minimum(t_start, 2.0 * first - second), t_start)
    aux_stop = jnp.where(several, jnp.maximum(t_stop, 2.0 * last - before_last), t_stop)
    return _EdgeCorrectedTrain(
        count=count,
        knots=jnp.concatenate([t_start[None], s, t_stop[None]]),
        first_isi=jnp.where(several, jnp.maximum(first - t_start, second - first), first - t_start),
        last_isi=jnp.where(several, jnp.maximum(t_stop - last, last - before_last), t_stop - last),
        candidates=jnp.concatenate(
            [aux_start[None], jnp.where(position < count, s, aux_stop), aux_stop[None]]
        ),
    )


def _isi_distance_corrected(t1, n1, t2, n2, t_start, t_stop):
    a = _edge_corrected_train(t1, n1, t_start, t_stop)
    b = _edge_corrected_train(t2, n2, t_start, t_stop)
    length, mid = _intervals(a.knots, b.knots)
    *_, x1 = a.at(mid)
    *_, x2 = b.at(mid)
    ratio = _safe_div(jnp.abs(x1 - x2), jnp.maximum(x1, x2))
    return jnp.sum(ratio * length) / (t_stop - t_start)


def _spike_distance_corrected(t1, n1, t2, n2, t_start, t_stop):
    a = _edge_corrected_train(t1, n1, t_start, t_stop)
    b = _edge_corrected_train(t2, n2, t_start, t_stop)
    length, mid = _intervals(a.knots, b.knots)

    def s_local(train, other):
        before, after, p, f, x = train.at(mid)
        dp, df = _nearest(p, other.candidates), _nearest(f, other.candidates)
        inside = _safe_div(dp * (f - mid) + df * (mid - p), f - p)
        return jnp.where(before, df, jnp.where(after, dp, inside)), x

    s1, x1 = s_local(a, b)
    s2, x2 = s_local(b, a)
    return _spike_profile_integral(s1, x1, s2, x2, length) / (t_stop - t_start)


_SIGNATURE = "(n),(),(m),(),(),()->()"
_ISI = {
    False: jax.jit(jnp.vectorize(_isi_distance, signature=_SIGNATURE)),
    True: jax.jit(jnp.vectorize(_isi_distance_corrected, signature=_SIGNATURE)),
}
_SPIKE = {
    False: jax.jit(jnp.vectorize(_spike_distance, signature=_SIGNATURE)),
    True: jax.jit(jnp.vectorize(_spike_distance_corrected, signature=_SIGNATURE)),
}


def _distance_inputs(times1, counts1, times2, counts2, t_start, t_stop, edge_correction):
    if not isinstance(edge_correction, bool):
        raise ValueError(f"edge_correction must be True or False, got {edge_correction!r}")
    times1, counts1 = check_train("times1", times1, counts1)
    times2, counts2 = check_train("times2", times2, counts2)
    check_window(t_start, t_stop)
    dtype = jnp.result_type(times1.dtype, times2.dtype)
    return (
        times1.astype(dtype),
        counts1,
        times2.astype(dtype),
        counts2,
        jnp.asarray(t_start, dtype),
        jnp.asarray(t_stop, dtype),
    )


def isi_distance(
    times1,
    counts1,
    times2,
    counts2,
    t_start: float,
    t_stop: float,
    *,
    edge_correction: bool = False,
):
    r"""ISI-distance (Kreuz, Haas, Morelli, Abarbanel & Politi 2007, J. Neurosci. Methods
    165:151): with $x_n(t)$ the inter-spike interval of train n that contains t,

    $$D_I = \frac{1}{T} \int_{t_\text{start}}^{t_\text{stop}}
            \frac{|x_1(t) - x_2(t)|}{\max(x_1(t), x_2(t))}\,dt .$$

    The integrand is piecewise constant, so the integral is an exact sum. In [0, 1); 0 for
    identical trains. Batch axes broadcast; jit-able.

    Arguments:
        times1, counts1, times2, counts2: two padded trains (see `scjax.analysis.spikes`).
        t_start, t_stop: the window, in the unit of the times.
        edge_correction: False (default): auxiliary spikes at t_start and t_stop (Kreuz et
            al. 2013), spikes outside the window clipped to its edges; equals PySpike given
            the edges as spikes. True: PySpike's default edge correction (the first and last
            ISIs extended to the neighbouring ISI when that is longer; see the module
            docstring of `scjax.analysis._isi_spike_distances`).
    """
    args = _distance_inputs(times1, counts1, times2, counts2, t_start, t_stop, edge_correction)
    return _ISI[edge_correction](*args)


def spike_distance(
    times1,
    counts1,
    times2,
    counts2,
    t_start: float,
    t_stop: float,
    *,
    edge_correction: bool = False,
):
    r"""SPIKE-distance (Kreuz, Chicharro, Houghton, Andrzejak & Mormann 2013,
    J. Neurophysiol. 109:1457). At time t, for train n: previous spike $t_P^{(n)}$,
    following spike $t_F^{(n)}$, $x_P = t - t_P$, $x_F = t_F - t$, $x_\text{ISI} = t_F - t_P$;
    $\Delta t_P^{(n)}$ ($\Delta t_F^{(n)}$) is the distance from $t_P^{(n)}$ ($t_F^{(n)}$) to
    the nearest spike of the other train. Then

    $$S_n = \frac{\Delta t_P^{(n)} x_F^{(n)} + \Delta t_F^{(n)} x_P^{(n)}}{x_\text{ISI}^{(n)}},
      \quad S(t) = \frac{S_1 x_\text{ISI}^{(2)} + S_2 x_\text{ISI}^{(1)}}
                        {2 \langle x_\text{ISI} \rangle^2},
      \quad D_S = \frac1T \int S(t)\,dt,$$

    with $\langle x_\text{ISI}\rangle$ the mean of the two ISIs. S is linear between spikes,
    so the integral is exact. In [0, 1]; 0 for identical trains. Batch axes broadcast.

    Arguments:
        times1, counts1, times2, counts2: two padded trains (see `scjax.analysis.spikes`).
        t_start, t_stop: the window, in the unit of the times.
        edge_correction: False (default): auxiliary spikes at t_start and t_stop in both
            trains (the 2013 convention); equals PySpike given the edges as spikes. True:
            PySpike's default (Kreuz, Mulansky & Bozanic 2015): [300] vs [700] on [0, 1000]
            gives 0.531 instead of 0.272 (module docstring of
            `scjax.analysis._isi_spike_distances`).
    """
    args = _distance_inputs(times1, counts1, times2, counts2, t_start, t_stop, edge_correction)
    return _SPIKE[edge_correction](*args)
