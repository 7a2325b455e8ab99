"""Golomb's population synchrony measure χ."""

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


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
