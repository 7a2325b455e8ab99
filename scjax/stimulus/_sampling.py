"""A stimulus as the dense trace the loop would see: for backends and paths that take arrays."""

import jax
import jax.numpy as jnp
import numpy as np

from ._base import AbstractStimulus


def sample_trace(stimulus: AbstractStimulus, n_steps: int, dt, t0=0.0, key=None) -> jax.Array:
    """The samples `[T]` (or `[B, T]` for per-neuron parameters) that `scjax.simulate` /
    `simulate_batch` draw from `stimulus` for a run of `n_steps` steps of `dt` from `t0`.

    Sample n is the stimulus at t0 + n·dt, held over the step. A stochastic stimulus gives
    the same draws as the loop: neuron i of a batch uses `jax.random.split(key, B)[i]`. Use it
    to hand a stimulus to the native libraries, SciPy, Julia or the adaptive reference
    (`current_dt=dt`: the jumps then sit exactly on the grid), or to plot it.
    """
    if not isinstance(stimulus, AbstractStimulus):
        raise ValueError(f"stimulus must be a scjax.stimulus object, got {type(stimulus).__name__}")
    if not (isinstance(n_steps, int) and not isinstance(n_steps, bool) and n_steps >= 1):
        raise ValueError(f"n_steps must be a positive int, got {n_steps!r}")
    if not (np.ndim(dt) == 0 and np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a positive finite scalar, got {dt!r}")
    if stimulus.is_stochastic and key is None:
        raise ValueError(
            f"key is None but the stimulus {type(stimulus).__name__} is "
            "stochastic: pass key=jax.random.key(seed)"
        )
    floats = [
        x for x in jax.tree.leaves(stimulus) if jnp.issubdtype(jnp.result_type(x), jnp.floating)
    ]
    dtype = jnp.result_type(*floats) if floats else jnp.result_type(float)
    dt = jnp.asarray(dt, dtype)
    ts = jnp.asarray(t0, dtype) + dt * jnp.arange(n_steps, dtype=dtype)
    steps = jnp.arange(n_steps, dtype=jnp.int32)

    def one(stim, k):
        def body(state, xs):
            n, t = xs
            value, state = stim.sample(n, t, dt, state)
            return state, value

        return jax.lax.scan(body, stim.init(k, dt), (steps, ts))[1]

    batch = stimulus.batch_size()
    if batch is None:
        return one(stimulus, key)
    keys = None if key is None else jax.random.split(key, batch)
    return jax.vmap(
        one, in_axes=(stimulus.batch_axes(), None if keys is None else 0), axis_size=batch
    )(stimulus, keys)
