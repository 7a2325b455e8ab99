"""Spreading a batch over devices, and over processes, with `jax.sharding`.

`scjax.simulate_batch` (and `jax.vmap(scjax.simulate)`) under `jax.jit` is partitioned by XLA's
SPMD partitioner once its batched inputs are sharded along the batch axis: each device then
integrates its own slice of neurons and no communication happens inside the loop (neurons are
independent). The same holds across processes started with `jax.distributed.initialize`
(multi-controller JAX): `jax.devices()` then lists every process's devices, the arrays built
here are global `jax.Array`s of which each process holds only its own rows, and every process
runs the same program on its shard. See `docs/distributed.md`.
"""

import jax
import jax.core  # explicit: a type checker does not see the submodule through `jax`
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def batch_sharding(devices=None) -> NamedSharding:
    """A sharding that splits axis 0 over `devices` (default: all of `jax.devices()`, which
    after `jax.distributed.initialize` are the devices of every process)."""
    devices = jax.devices() if devices is None else list(devices)
    mesh = Mesh(np.asarray(devices), ("batch",))
    return NamedSharding(mesh, PartitionSpec("batch"))


def explicit_batch_axes(tree):
    """`(mesh, axes)` when an array leaf of `tree` has its leading (batch) axis split over
    mesh axes of the explicit type (`jax.sharding.AxisType.Explicit`, JAX's sharding in
    types): the leaf's abstract mesh and the entry of its `PartitionSpec` for that axis;
    None otherwise (unsharded, or sharded as `shard_batch` does, over automatic axes)."""
    for x in jax.tree.leaves(tree):
        if not isinstance(x, (jax.Array, jax.core.Tracer)) or jnp.ndim(x) == 0:
            continue
        sharding = getattr(jax.typeof(x), "sharding", None)
        mesh, spec = getattr(sharding, "mesh", None), getattr(sharding, "spec", None)
        if mesh is None or not spec or spec[0] is None:
            continue
        names = (spec[0],) if isinstance(spec[0], str) else tuple(spec[0])
        types = dict(zip(mesh.axis_names, mesh.axis_types))
        if any(types.get(name) == jax.sharding.AxisType.Explicit for name in names):
            return mesh, spec[0]
    return None


def is_key(x) -> bool:
    """Whether `x` is a typed PRNG key array (concrete or traced)."""
    return isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def shard_batch(tree, devices=None, *, process_local: bool = False):
    """Place every array leaf of `tree` with its leading (batch) axis split over devices.

    In one process (or with every process passing the same full value, the default) each
    leaf holds the whole batch `[B, ...]`, and each device gets its rows. With
    `process_local=True` each process passes only its own rows `[B / n_processes, ...]`
    (process p's rows are p·B/P to (p+1)·B/P), so no process ever holds the whole batch.

    The batch size must be a multiple of the number of devices (pad the batch otherwise, or
    use `simulate_batch(..., chunk_size=...)`, which pads for you); scalars and non-array
    leaves are left as they are. PRNG key arrays `[B]` are sharded like any other leaf.
    """
    sharding = batch_sharding(devices)
    n_devices = len(sharding.device_set)
    n_processes = len({d.process_index for d in sharding.device_set})
    multi_process = not sharding.is_fully_addressable

    def place(x):
        if not hasattr(x, "shape") or len(x.shape) == 0:
            return x
        if is_key(x):
            impl = jax.random.key_impl(x)
            return jax.random.wrap_key_data(place(jax.random.key_data(x)), impl=impl)
        rows = x.shape[0] * (n_processes if process_local else 1)
        if rows % n_devices:
            raise ValueError(
                f"tree: batch axis of length {rows} is not a multiple of the "
                f"{n_devices} devices; pad the batch"
            )
        if isinstance(x, jax.Array) and x.sharding == sharding and not process_local:
            return x
        if not multi_process:
            return jax.device_put(x, sharding)
        if process_local:
            return jax.make_array_from_process_local_data(
                sharding, np.asarray(x), (rows, *x.shape[1:])
            )
        host = np.asarray(x)
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    return jax.tree.map(place, tree)


def gather(tree):
    """Every array leaf of `tree` as a NumPy array holding the whole batch, on every process.

    A leaf sharded over the devices of several processes is all-gathered
    (`jax.experimental.multihost_utils.process_allgather`); a leaf this process can read
    whole is copied to the host. Gather what is small (spike counts, final states, summary
    statistics), not `[B, T]` recordings of a large batch.
    """

    def fetch(x):
        if not isinstance(x, jax.Array):
            return x
        if is_key(x):
            return x
        if x.is_fully_addressable or x.sharding.is_fully_replicated:
            return np.asarray(x)
        return np.asarray(multihost_utils.process_allgather(x, tiled=True))

    return jax.tree.map(fetch, tree)
