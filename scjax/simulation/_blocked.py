"""The cache-blocked batched loop on XLA (`simulate_batch(..., loop="blocked")`).

The XLA loop (`_loop.run_loop`) advances the whole batch one step at a time: every step
reads the state of all B neurons and writes it back. Once the batch's state and the step's
intermediates outgrow the cores' caches (10⁵ Izhikevich neurons in float64 are 1.6 MB of
state, plus the stimulus's amplitudes), every step streams them from memory, and a cheap
model runs at the memory's pace instead of the arithmetic's. Here the batch is cut into
blocks of about `block_size` neurons and `jax.lax.map` runs *the same loop* on one block at
a time, through every step, before the next block starts:

    for each block b (in sequence):              y[b] ← y0[b]    (stays in cache)
        the XLA loop over all T steps on the block's neurons

Neurons are independent, so this is a reordering of the same arithmetic: each neuron sees its
own parameters, rows of the current, `y0` and (for a stochastic stimulus) its own key
`jax.random.split(key, B)[i]` of the whole batch, and every output equals the XLA loop's
without fused multiply-adds bit for bit (tests/test_blocked_loop.py, run as every test with
--xla_cpu_max_isa=AVX); where XLA contracts multiply-adds into FMAs it may contract this
program's differently, a last-bit difference. A batch sharded over D devices
(`scjax.shard_batch`) is blocked within each device's own neurons (a strided set of them per
block), so every device runs its part of every block and no neuron moves.

It pays where the batch outgrows the cache and the step is cheap, and on sharded runs
(experiments/blocked_loop_sizes.py → experiments/results/blocked_loop_sizes.json); below a
block per device it is the XLA loop. Recordings `[B, T]` (rasters, `save_every=1`) cost one
more copy of themselves (the blocks' outputs are reordered into the batch's order); it is
meant for counts, spike times and sparse saves.
"""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp

from .._trajectory import Trajectory
from .._validation import is_concrete
from ..stimulus import AbstractStimulus
from ._chunked import PerNeuronKeys
from ._loop import call_compiled, raise_if_diverged, run_loop_uncompiled


@dataclasses.dataclass(frozen=True)
class BlockedLoop:
    """The static options of `simulate_batch(loop="blocked")` (pass an instance as `loop=`
    to change them).

    Attributes:
        block_size: at most how many neurons of each device a block holds (a device's cache
            is its core's). Each device's B / D neurons are cut into ⌈(B / D) / block_size⌉
            blocks of equal width, padded where they do not fill them by repeating the
            device's last neuron (the padding is dropped from the results); a block of 64
            neurons or more is widened to a multiple of 8. 8192 keeps an Izhikevich or HH
            block's state and step intermediates within a core's L2 cache in float64
            (experiments/results/blocked_loop_sizes.json).
    """

    block_size: int = 8192


def batch_device_count(*trees) -> int:
    """The largest number of devices any concrete array leaf of `trees` is spread over (1
    for traced or unplaced inputs)."""
    counts = [
        len(x.sharding.device_set)
        for x in jax.tree.leaves(trees)
        if isinstance(x, jax.Array) and is_concrete(x) and x.ndim >= 1
    ]
    return max(counts, default=1)


_LANES = 8


def block_layout(batch: int, block_size: int, n_devices: int) -> tuple[int, int, int]:
    """(devices, n_blocks, per_device): each of the `devices` rows of the batch (the device's
    own B / devices neurons; 1 row where B is not a multiple of `n_devices`) is cut into
    `n_blocks` = ⌈rows / block_size⌉ strided blocks of `per_device` neurons (about
    `block_size`)."""
    devices = n_devices if batch % n_devices == 0 else 1
    rows = batch // devices
    n_blocks = -(-rows // block_size)
    per_device = -(-rows // n_blocks)
    if n_blocks > 1 and per_device >= 8 * _LANES:
        # A block of odd width ran HH RK4 at half speed (2-core Xeon, N = 10⁵: 13 blocks of
        # 7693 → 12.5 M neuron-steps/s, 12 of 8334 → 25.8); whole 64-byte lines of float64.
        per_device = -(-per_device // _LANES) * _LANES
    return devices, n_blocks, per_device


def run_blocked_loop(options: BlockedLoop, n_devices: int, **arguments) -> Trajectory:
    """`_loop.run_loop`'s batch run block by block (keyword arguments as `run_loop`'s, with
    `model_axes` and `stimulus_axes` given), compiled as one program."""
    return call_compiled(_run_blocked, options, n_devices, **arguments)


def _run_blocked(
    options: BlockedLoop,
    n_devices: int,
    *,
    model,
    drive,
    y0,
    key,
    throw: bool,
    model_axes,
    stimulus_axes,
    **passed,  # the same for every block
) -> Trajectory:
    batch = y0.shape[0]
    devices, n_blocks, per_device = block_layout(batch, options.block_size, n_devices)
    rows, padded = batch // devices, n_blocks * per_device
    if n_blocks == 1:  # one block: the XLA loop's own program
        return run_loop_uncompiled(
            model=model, drive=drive, y0=y0, key=key, throw=throw, model_axes=model_axes,
            stimulus_axes=stimulus_axes, **passed,
        )  # fmt: skip
    if isinstance(drive, AbstractStimulus):
        drive_axes = stimulus_axes
    else:
        drive_axes = 0 if drive.ndim == 2 else None
    per_neuron_keys, key_impl = _whole_batch_keys(drive, key, batch)

    # [B, ...] -> [n_blocks, devices · per_device, ...]. Device d's neurons d·rows + k are
    # padded per device (its last neuron repeated) to k < n_blocks · per_device, and block j
    # takes k = i·n_blocks + j: every reshape and transpose keeps the device axis major, so
    # a batch sharded over the devices stays where it is.
    def to_blocks(x):
        x = x.reshape(devices, rows, *x.shape[1:])
        if padded != rows:
            x = x[:, jnp.minimum(jnp.arange(padded), rows - 1)]
        x = jnp.moveaxis(x.reshape(devices, per_device, n_blocks, *x.shape[2:]), 2, 0)
        return x.reshape(n_blocks, devices * per_device, *x.shape[3:])

    def from_blocks(x):  # the inverse, dropping the padding
        x = x.reshape(n_blocks, devices, per_device, *x.shape[2:])
        x = jnp.moveaxis(x, 0, 2).reshape(devices, padded, *x.shape[3:])[:, :rows]
        return x.reshape(batch, *x.shape[2:])

    model_blocks, model_shared = eqx.partition(model, _batched_leaves(model_axes))
    drive_blocks, drive_shared = eqx.partition(drive, _batched_leaves(drive_axes))
    xs = jax.tree.map(to_blocks, (model_blocks, drive_blocks, y0, per_neuron_keys))

    def one_block(block):
        model_block, drive_block, y0_block, keys_block = block
        block_model = eqx.combine(model_block, model_shared)
        block_drive = eqx.combine(drive_block, drive_shared)
        block_stimulus_axes = stimulus_axes
        if keys_block is not None:
            assert isinstance(block_drive, AbstractStimulus)  # a stochastic stimulus
            if key_impl is not None:
                keys_block = jax.random.wrap_key_data(keys_block, impl=key_impl)
            block_drive = PerNeuronKeys(block_drive, keys_block)
            block_stimulus_axes = block_drive.batch_axes()
        trajectory = run_loop_uncompiled(
            model=block_model,
            drive=block_drive,
            y0=y0_block,
            key=key,
            throw=False,  # thrown once below, for the whole batch
            model_axes=model_axes,
            stimulus_axes=block_stimulus_axes,
            **passed,
        )
        arrays, static = eqx.partition(trajectory, eqx.is_array)
        statics.append(static)  # the same for every block (the state names): kept from the trace
        return arrays

    statics = []
    arrays = jax.lax.map(one_block, xs)
    trajectory = eqx.combine(jax.tree.map(from_blocks, arrays), statics[0])
    if throw:
        trajectory = eqx.tree_at(
            lambda tr: tr.y, trajectory, raise_if_diverged(trajectory.y, trajectory.diverged)
        )
    return trajectory


def _whole_batch_keys(drive, key, batch: int):
    """(the keys the XLA loop gives the batch's neurons `[B, ...]`, their implementation):
    a block's neurons draw from these, not from keys split for the block. Typed keys travel
    as their data (reshapes and transposes of key arrays are not all supported); (None, None)
    without a stochastic stimulus."""
    if not (isinstance(drive, AbstractStimulus) and key is not None and drive.is_stochastic):
        return None, None
    keys = jax.random.split(key, batch)
    if jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(keys), jax.random.key_impl(key)
    return keys, None  # legacy uint32 keys are plain arrays


def _batched_leaves(axes):
    """`eqx.partition`'s filter: True for the leaves that vmap's `axes` (0 or None per leaf,
    or one of them for the whole tree) give a batch axis."""
    return jax.tree.map(lambda a: a is not None, axes, is_leaf=lambda a: a is None)
