"""Firing rate and count variability (Fano factor) of single trains."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._trains import check_positive, check_train, check_window, clean

#: most windows `fano_factor` histograms (a bin each): more is a window far too small
_MAX_WINDOWS = 1 << 24


def mean_rate(times, counts, t_start: float, t_stop: float) -> Float[Array, "..."]:
    """Spikes in [t_start, t_stop) divided by t_stop − t_start (per time unit; × 1000 for Hz
    when times are in ms)."""
    times, counts = check_train("times", times, counts)
    check_window(t_start, t_stop)
    return _mean_rate(times, counts, t_start, t_stop)


@jax.jit
def _mean_rate(times, counts, t_start, t_stop):
    t, mask = clean(times, counts, t_start - 1.0)
    inside = mask & (t >= t_start) & (t < t_stop)
    return jnp.sum(inside, axis=-1) / (t_stop - t_start)


def fano_factor(times, counts, window: float, t_start: float, t_stop: float):
    r"""Fano factor of windowed spike counts, $F = \operatorname{Var}[n_k] / \mathbb{E}[n_k]$,
    with $n_k$ the spikes in $[t_\text{start} + kw, t_\text{start} + (k+1)w)$ for the
    $K = \lfloor (t_\text{stop} - t_\text{start})/w \rfloor$ whole windows (population
    variance, ddof 0; Fano 1947, Teich 1989). 1 for a Poisson train. NaN when no spike falls
    in the windows. `window`, `t_start`, `t_stop` must be concrete (they fix K)."""
    times, counts = check_train("times", times, counts)
    check_window(t_start, t_stop)
    check_positive("window", window)
    windows = np.floor((float(t_stop) - float(t_start)) / float(window) + 1e-12)
    if not windows <= _MAX_WINDOWS:  # the histogram holds one bin per window
        raise ValueError(
            f"window = {float(window)!r} is too small for [t_start, t_stop): {windows:.3g} "
            f"windows, more than {_MAX_WINDOWS}"
        )
    n_win = int(windows)
    if n_win < 2:
        raise ValueError(f"window must fit at least twice into [t_start, t_stop), got {window}")
    return _fano_factor(times, counts, window, t_start, t_stop, n_win)


@eqx.filter_jit
def _fano_factor(times, counts, window, t_start, t_stop, n_win: int):
    t, mask = clean(times, counts, t_start - 1.0)
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
