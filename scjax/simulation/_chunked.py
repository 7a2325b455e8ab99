"""`simulate_batch(..., chunk_size=C)`: a batch larger than the devices' memory, streamed in
chunks of C neurons, each chunk sharded over every device (of every process).

Neurons are independent, so running the batch in slices and concatenating the results gives
the same numbers as one run, bit for bit, provided each neuron sees the same inputs: its own
parameters, its own rows of the current and `y0`, and for a stochastic stimulus its own key
`jax.random.split(key, B)[i]` of the whole batch (not of the chunk).
"""

import jax
import numpy as np

from .._sharding import batch_sharding, gather, shard_batch
from .._trajectory import Trajectory
from ..stimulus import AbstractStimulus


class PerNeuronKeys(AbstractStimulus):
    """A stimulus whose neurons draw from given keys instead of splitting the run's key.

    The loop gives neuron j of a run of width W the key `split(key, W)[j]`; a chunk holding
    neurons start, ..., start + W − 1 of the whole batch needs `split(key, B)[start + j]`.
    """

    stimulus: AbstractStimulus
    keys: jax.Array  # [W] PRNG keys: neuron j's key of the whole batch

    def init(self, key, dt):
        del key  # the loop's key of this chunk; the neuron's own is `self.keys`
        return self.stimulus.init(self.keys, dt)

    def sample(self, n, t, dt, state):
        return self.stimulus.sample(n, t, dt, state)

    @property
    def is_stochastic(self) -> bool:
        return True

    @property
    def n_samples(self) -> int | None:
        return self.stimulus.n_samples

    def batch_axes(self) -> "PerNeuronKeys":
        # vmap's in_axes: this pytree's structure with an axis (0 for the keys) per leaf.
        return PerNeuronKeys(self.stimulus.batch_axes(), 0)  # pyright: ignore[reportArgumentType]

    def batch_size(self) -> int | None:
        return self.keys.shape[0]


def check_chunk_size(chunk_size) -> None:
    if not (isinstance(chunk_size, int) and not isinstance(chunk_size, bool) and chunk_size >= 1):
        raise ValueError(f"chunk_size must be a positive int or None, got {chunk_size!r}")


def _progress(n_chunks: int):
    """A tqdm bar over the chunks where tqdm is installed (on process 0 only), else none."""
    if n_chunks < 2 or jax.process_index() != 0:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=n_chunks, desc="simulate_batch", unit="chunk")


def simulate_chunked(
    model, current, dt, *, batch: int, chunk_size: int, key, y0, **kwargs
) -> Trajectory:
    """The batch of `simulate_batch` (B = `batch`) run `chunk_size` neurons at a time.

    A chunk is `chunk_size` neurons rounded up to a multiple of the device count; the last
    chunk is padded (by repeating the batch's last neuron) to the same width, so the loop
    compiles once; the padding is dropped from the results. The results are gathered to host
    memory as NumPy arrays (on every process) and concatenated: keep them small
    (`spikes="count"`, `save_every=n_steps`).
    """
    from ._simulate import simulate_batch

    check_chunk_size(chunk_size)
    is_stimulus = isinstance(current, AbstractStimulus)
    if not is_stimulus and key is not None:
        raise ValueError(
            "key: chunk_size with a current array draws the model's current "
            "noise as one [B, T] array, which cannot be streamed; pass the "
            "noise as scjax.stimulus.WhiteNoise (per-neuron keys) instead"
        )
    n_devices = len(batch_sharding().device_set)
    width = -(-min(chunk_size, batch) // n_devices) * n_devices
    # Whole-batch inputs on the host (every process holds them: parameters are B numbers).
    model, current, y0 = gather((model, current, y0))
    model_axes = jax.tree.map(lambda x: 0 if np.ndim(x) == 1 else None, model)
    if is_stimulus:
        stimulus_axes = current.batch_axes()
    else:
        stimulus_axes = 0 if np.ndim(current) == 2 else None
    keys = None
    if is_stimulus and current.is_stochastic and key is not None:
        keys = jax.random.split(key, batch)  # B keys: small

    def run(start):
        index = np.minimum(np.arange(start, start + width), batch - 1)
        drive = _rows(current, stimulus_axes, index)
        if keys is not None:
            drive = PerNeuronKeys(drive, keys[index])
        chunk_model, drive, chunk_y0 = shard_batch(
            (_rows(model, model_axes, index), drive, None if y0 is None else y0[index])
        )
        return simulate_batch(chunk_model, drive, dt, key=key, y0=chunk_y0, **kwargs)

    starts = range(0, batch, width)
    bar = _progress(len(starts))
    pieces = []
    pending: tuple[Trajectory, int] | None = None
    for start in starts:
        # Dispatch the next chunk before fetching the last one: the devices keep working
        # while the host gathers.
        trajectory = run(start)
        if pending is not None:
            pieces.append(_fetch(*pending))
            if bar is not None:
                bar.update()
        pending = (trajectory, min(width, batch - start))
    assert pending is not None  # batch >= 1: one chunk at least
    pieces.append(_fetch(*pending))
    if bar is not None:
        bar.update()
        bar.close()
    return jax.tree.map(lambda *xs: np.concatenate(xs), *pieces)


def _rows(tree, axes, index):
    """The neurons `index` of a batched pytree (leaves whose axis is None are shared)."""
    return jax.tree.map(
        lambda a, x: x if a is None else x[index], axes, tree, is_leaf=lambda a: a is None
    )


def _fetch(trajectory: Trajectory, n_real: int) -> Trajectory:
    host = gather(trajectory)
    return jax.tree.map(lambda x: x[:n_real], host)
