"""One process of the multi-process runs of tests/test_distributed.py.

    python tests/distributed_worker.py COORDINATOR N_PROCESSES PROCESS_ID OUT.npz \
        [CHUNK_SIZE [BATCH N_STEPS]]

joins `jax.distributed.initialize(COORDINATOR, N_PROCESSES, PROCESS_ID)` and runs `case()`
over the devices of every process three ways:

- "global": every process builds the whole (small) parameter arrays, `scjax.shard_batch`
  places them as global arrays of which each process holds its rows;
- "local": each process builds only its own rows, `shard_batch(..., process_local=True)`;
- "chunked": `simulate_batch(..., chunk_size=CHUNK_SIZE)` (default 5) on the whole arrays;
- "pallas": the global arrays with `loop=PallasLoop(interpret=True)` (the kernel split
  along the batch by XLA's partitioner, `custom_partitioning`);
- "pallas_jit": the same inside a user's `jax.jit`.

Each writes the gathered result (every process writes the whole batch, so the test can check
that all of them agree) and its wall time to OUT.npz. The test sets XLA_FLAGS (2 host
devices per process, no FMA), JAX_PLATFORMS=cpu and PYTHONPATH. With N_PROCESSES = 1 and no
coordinator ("-") it runs the same case in one process (for timing comparisons).
"""

import functools
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

#: The batch, the steps and the step of the test case.
BATCH, N_STEPS, DT = 16, 400, 0.25
MODES = ("global", "local", "chunked", "pallas", "pallas_jit")


def case(batch: int = BATCH, n_steps: int = N_STEPS):
    """(model, stimulus, kwargs): Izhikevich (2003) neurons with their own recovery rate a
    and reset increment d, each with its own constant drive plus Ornstein–Uhlenbeck noise
    drawn from its own key."""
    import scjax

    model = scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, batch), d=jnp.linspace(2.0, 8.0, batch))
    stimulus = scjax.stimulus.Constant(
        jnp.linspace(2.0, 14.0, batch)
    ) + scjax.stimulus.OrnsteinUhlenbeck(mean=0.0, std=jnp.linspace(0.5, 3.0, batch), tau=2.0)
    kwargs = dict(n_steps=n_steps, spikes="count", save_every=n_steps, key=jax.random.key(7))
    return model, stimulus, kwargs


def result_arrays(trajectory) -> dict[str, np.ndarray]:
    """What the test compares: spike counts, the final states, the divergence flags."""
    import scjax

    host = scjax.gather(trajectory)
    return {"spike_count": host.spike_count, "y_final": host.y[:, -1], "diverged": host.diverged}


def _own_rows(tree, batch):
    """This process's rows of every `[B]` leaf (process p holds rows p·B/P to (p+1)·B/P)."""
    per_process = batch // jax.process_count()
    rows = slice(jax.process_index() * per_process, (jax.process_index() + 1) * per_process)
    return jax.tree.map(lambda x: x[rows] if np.ndim(x) == 1 else x, tree)


def main(
    coordinator: str,
    n_processes: str,
    process_id: str,
    out: str,
    chunk: str = "5",
    batch: str = str(BATCH),
    n_steps: str = str(N_STEPS),
):
    jax.config.update("jax_enable_x64", True)
    if coordinator != "-":
        jax.distributed.initialize(
            coordinator, int(n_processes), int(process_id), initialization_timeout=60
        )
    import scjax
    from scjax.simulation import PallasLoop

    batch, n_steps = int(batch), int(n_steps)
    model, stimulus, kwargs = case(batch, n_steps)
    results = {}
    for mode in MODES:
        start = time.perf_counter()
        if mode == "chunked":
            trajectory = scjax.simulate_batch(model, stimulus, DT, chunk_size=int(chunk), **kwargs)
        elif mode.startswith("pallas"):
            loop = PallasLoop(block_size=4, interpret=True)
            inputs = scjax.shard_batch((model, stimulus))
            run = functools.partial(scjax.simulate_batch, dt=DT, loop=loop, **kwargs)
            trajectory = (jax.jit(run) if mode == "pallas_jit" else run)(*inputs)
        else:
            if mode == "global":
                inputs = scjax.shard_batch((model, stimulus))
            else:
                inputs = scjax.shard_batch(_own_rows((model, stimulus), batch), process_local=True)
            trajectory = scjax.simulate_batch(*inputs, DT, **kwargs)
        if mode != "chunked":
            shards = trajectory.spike_count.addressable_shards
            results[f"{mode}_local_rows"] = np.asarray(sorted(s.index[0].start for s in shards))
        for name, value in result_arrays(trajectory).items():
            results[f"{mode}_{name}"] = value
        results[f"{mode}_wall_s"] = time.perf_counter() - start
    np.savez(out, **results, n_devices=len(jax.devices()), n_local_devices=len(jax.local_devices()))
    if coordinator != "-":
        jax.distributed.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:])
