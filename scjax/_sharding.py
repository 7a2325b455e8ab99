"""Spreading a batch over devices with `jax.sharding`.

`jax.vmap(scjax.simulate)` under `jax.jit` is partitioned by XLA's SPMD partitioner once its
batched inputs are sharded along the batch axis: each device then integrates its own slice of
neurons and no communication happens inside the loop (neurons are independent).
"""

import math

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def batch_sharding(devices=None) -> NamedSharding:
    """A sharding that splits axis 0 over `devices` (default: all of `jax.devices()`)."""
    devices = jax.devices() if devices is None else list(devices)
    mesh = Mesh(np.asarray(devices), ("batch",))
    return NamedSharding(mesh, PartitionSpec("batch"))


def shard_batch(tree, devices=None):
    """Place every array leaf of `tree` with its leading (batch) axis split over devices.

    The batch size must be a multiple of the number of devices (pad the batch otherwise);
    scalars and non-array leaves are left as they are.
    """
    sharding = batch_sharding(devices)
    n_devices = math.prod(sharding.mesh.devices.shape)

    def place(x):
        if not hasattr(x, "shape") or len(x.shape) == 0:
            return x
        if x.shape[0] % n_devices:
            raise ValueError(
                f"tree: batch axis of length {x.shape[0]} is not a multiple of the "
                f"{n_devices} devices; pad the batch"
            )
        return jax.device_put(x, sharding)

    return jax.tree.map(place, tree)
