"""Van Rossum's distance and the exponentially filtered trains it compares."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._trains import check_positive, check_train, clean


def exponential_traces(times, counts, t: Float[ArrayLike, " T"], tau: float):
    r"""Spike trains filtered with the causal exponential kernel,
    $f(t) = \sum_i e^{-(t - t_i)/\tau}\,\Theta(t - t_i)$, sampled at `t` `[T]` → `[..., T]`
    (van Rossum 2001; the signal whose L² distance `van_rossum_distance` computes exactly)."""
    times, counts = check_train("times", times, counts)
    check_positive("tau", tau)
    return _exponential_traces(times, counts, jnp.asarray(t), tau)


@jax.jit
def _exponential_traces(times, counts, t, tau):
    s, mask = clean(times, counts, jnp.inf)
    lag = t[..., :] - s[..., :, None]  # [..., N, T]
    after = mask[..., :, None] & (lag >= 0)
    kernel = jnp.exp(-jnp.where(after, lag, 0.0) / tau)
    return jnp.sum(jnp.where(after, kernel, 0.0), axis=-2)


def _van_rossum_sq(t1, n1, t2, n2, tau):
    a, ma = clean(t1, n1, 0.0)
    b, mb = clean(t2, n2, 0.0)

    def kernel_sum(x, mx, y, my):
        lag = jnp.abs(x[:, None] - y[None, :])
        return jnp.sum(jnp.where(mx[:, None] & my[None, :], jnp.exp(-lag / tau), 0.0))

    return 0.5 * (
        kernel_sum(a, ma, a, ma) + kernel_sum(b, mb, b, mb) - 2.0 * kernel_sum(a, ma, b, mb)
    )


_van_rossum_sq_vec = jax.jit(jnp.vectorize(_van_rossum_sq, signature="(n),(),(m),(),()->()"))


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
    times1, counts1 = check_train("times1", times1, counts1)
    times2, counts2 = check_train("times2", times2, counts2)
    check_positive("tau", tau)
    d2 = _van_rossum_sq_vec(times1, counts1, times2, counts2, jnp.asarray(tau))
    pos = d2 > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, d2, 1.0)), 0.0)
