"""A dense, sampled current trace as a stimulus (today's `current=` array, as an object)."""

from typing import ClassVar

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._validation import is_concrete
from ._base import AbstractStimulus


class Sampled(AbstractStimulus):
    """I_n = values[..., n]: one sample per step, shared `[T]` or per neuron `[B, T]`.

    Passing an array as `current` to `scjax.simulate` / `simulate_batch` is the same
    stimulus (and the fastest way to run it alone: the loop then scans over the samples).
    Wrap it in `Sampled` to add it to other stimuli.
    """

    values: Float[Array, "*B T"]
    sample_rank: ClassVar[int] = 1

    def __check_init__(self):
        if is_concrete(self.values):
            arr = np.asarray(self.values)
            if arr.ndim not in (1, 2) or arr.shape[-1] == 0:
                raise ValueError(
                    f"Sampled: values must have shape [T] or [B, T] with T >= 1, got {arr.shape}"
                )
            if not np.issubdtype(arr.dtype, np.floating):
                raise ValueError(f"Sampled: values must be a float array, got {arr.dtype}")
            if not np.all(np.isfinite(arr)):
                raise ValueError("Sampled: values must be finite")

    def init(self, key, dt):
        return None

    def sample(self, n, t, dt, state):
        return jnp.asarray(self.values)[..., n].astype(t.dtype), None

    @property
    def n_samples(self) -> int:
        return int(np.shape(self.values)[-1])
