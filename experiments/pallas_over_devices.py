"""The Pallas loop on several devices: custom-partitioned against left to XLA's partitioner.

    python experiments/pallas_over_devices.py [--devices 4] [--n 4096] [--steps 500]
        [--rounds 3]

A `pallas_call` that XLA's partitioner is left to split is computed whole on every device
(the batch all-gathered, the results replicated); `_pallas._partitioned_by_xla` makes the
kernel a `custom_partitioning` operation that each device runs on its own rows. Measured
here on XLA host devices (CPU, Pallas interpret mode): Izhikevich RS, half-step Euler,
dt 0.5 ms, I_i = 5 + 10 i/N as a per-neuron `Constant`, spike counts only, the batch placed
with `scjax.shard_batch` and the run inside a user's `jax.jit`. Contenders, each in its own
process (peak RSS is per process): "partitioned" (the default), "gathered"
(`_pallas.PARTITIONED_OVER_DEVICES = False`: the previous behaviour) and "xla" (the XLA
loop, which XLA's partitioner splits itself). Each round runs every contender once, in
rotated order; a worker compiles, runs once, then times one run. Reported: medians of the
rounds, ratios to "partitioned" from the same rounds, the collectives in each compiled
program and their largest operand, the output's sharding, and whether every contender's
counts equal the XLA loop's on one device.

Writes experiments/results/pallas_over_devices.json.
"""

import re
import resource
import time

from _worker_process import (
    answered_as_worker,
    experiment_arguments,
    new_document,
    run_worker,
    save_document,
)

CONTENDERS = ("partitioned", "gathered", "xla")
_COLLECTIVE = re.compile(r"= (\S+) (all-gather|all-reduce|all-to-all|collective-permute)\(")


def worker(spec: dict) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np

    import scjax
    from scjax.simulation import PallasLoop, _pallas

    _pallas.PARTITIONED_OVER_DEVICES = spec["contender"] != "gathered"
    n, steps = spec["n"], spec["steps"]
    model = scjax.Izhikevich.preset("RS")
    amplitude = jnp.asarray(5.0 + 10.0 * np.arange(n) / n, jnp.float32)
    loop = "xla" if spec["contender"] == "xla" else PallasLoop(256, interpret=True)

    @jax.jit
    def counts(amplitude):
        stimulus = scjax.stimulus.Constant(amplitude)
        run = scjax.simulate_batch(
            model, stimulus, 0.5, n_steps=steps, spikes="count", save_every=steps, loop=loop
        )
        return run.spike_count

    placed = scjax.shard_batch(amplitude)
    program = counts.lower(placed).compile().as_text()
    collectives = _COLLECTIVE.findall(program)
    out = jax.block_until_ready(counts(placed))
    start = time.perf_counter()
    out = jax.block_until_ready(counts(placed))
    seconds = time.perf_counter() - start
    reference = None
    if spec.get("reference"):
        with jax.default_device(jax.devices()[0]):
            reference = np.asarray(
                scjax.simulate_batch(
                    model,
                    scjax.stimulus.Constant(np.asarray(amplitude)),
                    0.5,
                    n_steps=steps,
                    spikes="count",
                    save_every=steps,
                ).spike_count
            ).tolist()
    return {
        "status": "ok",
        "seconds": seconds,
        "neuron_steps_per_s": n * steps / seconds,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "devices": len(jax.devices()),
        "output_spec": str(out.sharding.spec),
        "output_devices": len(out.sharding.device_set),
        "collectives": len(collectives),
        "collective_kinds": sorted({kind for _, kind in collectives}),
        "largest_collective_operand": max((shape for shape, _ in collectives), key=len)
        if collectives
        else None,
        "counts": np.asarray(out).tolist(),
        "reference": reference,
    }


def main() -> None:
    parser = experiment_arguments(__doc__, "pallas_over_devices.json")
    parser.add_argument("--devices", type=int, default=4)
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if answered_as_worker(args, worker):
        return
    document = new_document(
        "Pallas loop over XLA host devices under jax.jit: custom-partitioned vs all-gathered",
        devices=args.devices,
        n=args.n,
        steps=args.steps,
        rounds=args.rounds,
    )
    runs: dict = {c: [] for c in CONTENDERS}
    for r in range(args.rounds):
        order = CONTENDERS[r % 3 :] + CONTENDERS[: r % 3]
        for contender in order:
            spec = {"contender": contender, "n": args.n, "steps": args.steps}
            spec["reference"] = r == 0 and contender == "xla"
            result = run_worker(__file__, spec, devices=args.devices)
            runs[contender].append(result)
            print(contender, {k: v for k, v in result.items() if k not in ("counts", "reference")})
    import numpy as np

    reference = next(x["reference"] for x in runs["xla"] if x.get("reference"))
    medians = {}
    for contender, results in runs.items():
        ok = [x for x in results if x.get("status") == "ok"]
        last = ok[-1] if ok else results[-1]
        summary = {k: v for k, v in last.items() if k not in ("counts", "reference", "seconds")}
        if ok:
            medians[contender] = float(np.median([x["seconds"] for x in ok]))
            summary["seconds_median"] = medians[contender]
            summary["seconds_rounds"] = [x["seconds"] for x in ok]
            summary["peak_rss_mib_median"] = float(np.median([x["peak_rss_mib"] for x in ok]))
            summary["neuron_steps_per_s"] = args.n * args.steps / medians[contender]
            summary["counts_equal_single_device_xla"] = all(x["counts"] == reference for x in ok)
        document["results"][contender] = summary
    if "partitioned" in medians:
        document["seconds_ratio_to_partitioned"] = {
            c: medians[c] / medians["partitioned"] for c in medians
        }
    save_document(document, args.out)
    print(document.get("seconds_ratio_to_partitioned"))


if __name__ == "__main__":
    main()
