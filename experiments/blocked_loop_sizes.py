"""`simulate_batch(loop="blocked")` against the XLA loop, by block size (issue 9, item 5).

    python experiments/blocked_loop_sizes.py                 # N = 1e5, 1 and 2 CPU devices
    python experiments/blocked_loop_sizes.py --n 1000000 --izh-steps 500 --hh-steps 100

Workloads of the population race (experiments/bench_population.py): Izhikevich RS (2003 scheme,
dt 0.5 ms) and Hodgkin-Huxley classic RK4 (dt 0.01 ms), I_i = 5 + 10 i/N as
`scjax.stimulus.Constant`, `spikes="count"`, final state only; float64 and float32. Each
(model, dtype, device count) runs in its own subprocess (the device count is an XLA flag fixed
at start-up); inside it every loop is compiled first, then timed in rounds, the loops'
order rotated each round, and the median of the rounds reported. With 2 devices the
amplitudes are placed with `scjax.shard_batch`. Every loop's counts must equal the XLA loop's.

Writes experiments/results/blocked_loop_sizes.json.
"""

from _worker_process import (
    answered_as_worker,
    experiment_arguments,
    interleaved_seconds,
    new_document,
    print_rates,
    rates,
    run_worker,
    save_document,
)

BLOCK_SIZES = (2048, 4096, 8192, 16384)


def worker(spec: dict) -> dict:
    import jax

    jax.config.update("jax_enable_x64", spec["dtype"] == "float64")  # this subprocess only
    import jax.numpy as jnp
    import numpy as np

    import scjax
    from scjax.simulation import BlockedLoop

    n, steps = spec["n"], spec["steps"]
    if spec["model"] == "hh":
        model, dt = scjax.HodgkinHuxley(integrator="rk4"), 0.01
    else:
        model, dt = scjax.Izhikevich.preset("RS"), 0.5
    amplitude = jnp.asarray(5.0 + 10.0 * np.arange(n) / n, spec["dtype"])
    if len(jax.devices()) > 1:
        amplitude = scjax.shard_batch(amplitude)
    loops = {"xla": "xla", **{f"blocked_{b}": BlockedLoop(b) for b in spec["block_sizes"]}}

    def counts(loop):
        trajectory = scjax.simulate_batch(
            model,
            scjax.stimulus.Constant(amplitude),
            dt,
            n_steps=steps,
            spikes="count",
            save_every=steps,
            loop=loop,
        )
        return np.asarray(trajectory.spike_count)

    reference = counts("xla")
    equal = {name: bool((counts(loop) == reference).all()) for name, loop in loops.items()}
    calls = {name: lambda loop=loop: counts(loop) for name, loop in loops.items()}
    result = rates(interleaved_seconds(calls, spec["repeats"]), n * steps)
    for name, entry in result.items():
        entry["counts_equal_xla"] = equal[name]
    best = max(result, key=lambda k: result[k]["neuron_steps_per_s_median"])
    xla = result["xla"]["neuron_steps_per_s_median"]
    return {
        "devices": len(jax.devices()),
        "loops": result,
        "best": best,
        "ratio_best_over_xla": result[best]["neuron_steps_per_s_median"] / xla,
        "ratio_blocked_8192_over_xla": (
            result["blocked_8192"]["neuron_steps_per_s_median"] / xla
            if "blocked_8192" in result
            else None
        ),
        "spike_total": int(reference.sum()),
    }


def main() -> None:
    parser = experiment_arguments(__doc__, "blocked_loop_sizes.json")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--izh-steps", type=int, default=2000)
    parser.add_argument("--hh-steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if answered_as_worker(args, worker):
        return
    document = new_document(
        "experiments/blocked_loop_sizes.py (issue 9, item 5)",
        neurons=args.n,
        steps={"izh": args.izh_steps, "hh": args.hh_steps},
        repeats=args.repeats,
    )
    for model in ("izh", "hh"):
        for dtype in ("float64", "float32"):
            for devices in args.devices:
                spec = {
                    "model": model,
                    "dtype": dtype,
                    "n": args.n,
                    "steps": args.izh_steps if model == "izh" else args.hh_steps,
                    "repeats": args.repeats,
                    "block_sizes": list(BLOCK_SIZES),
                }
                key = f"{model}/{dtype}/devices={devices}"
                entry = document["results"][key] = run_worker(__file__, spec, devices)
                print_rates(key, entry, variants="loops")
                save_document(document, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
