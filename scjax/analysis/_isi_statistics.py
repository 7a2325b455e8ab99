"""Single-train inter-spike-interval statistics: the ISIs and their coefficient of
variation."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from ._trains import check_train, clean


def isi(times, counts) -> tuple[Float[Array, "... N-1"], Int[Array, "..."]]:
    """Inter-spike intervals `[..., N−1]` (NaN-padded) and their number `max(counts − 1, 0)`."""
    times, counts = check_train("times", times, counts)
    return _isi(times, counts)


@jax.jit
def _isi(times, counts):
    t, mask = clean(times, counts, 0.0)
    intervals = jnp.diff(t, axis=-1)
    ok = mask[..., 1:]
    return jnp.where(ok, intervals, jnp.nan), jnp.maximum(jnp.asarray(counts) - 1, 0)


def cv_isi(times, counts) -> Float[Array, "..."]:
    r"""Coefficient of variation of the ISIs, $CV = \sigma_\text{ISI} / \mu_\text{ISI}$
    (population σ, ddof 0; Softky & Koch 1993). 1 for a Poisson train, 0 for a regular one;
    NaN with fewer than two ISIs."""
    times, counts = check_train("times", times, counts)
    return _cv_isi(times, counts)


@jax.jit
def _cv_isi(times, counts):
    t, mask = clean(times, counts, 0.0)
    ok = mask[..., 1:]
    intervals = jnp.where(ok, jnp.diff(t, axis=-1), 0.0)
    n = jnp.sum(ok, axis=-1)
    n_safe = jnp.maximum(n, 1)
    mean = jnp.sum(intervals, axis=-1) / n_safe
    var = jnp.sum(jnp.where(ok, (intervals - mean[..., None]) ** 2, 0.0), axis=-1) / n_safe
    mean_safe = jnp.where(mean > 0, mean, 1.0)
    return jnp.where((n >= 2) & (mean > 0), jnp.sqrt(var) / mean_safe, jnp.nan)
