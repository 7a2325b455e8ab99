"""Throughput of the scan loop: a batch of Hodgkin–Huxley neurons × RK4 steps.

    python experiments/bench_simulate.py [--neurons 1000] [--steps 10000] [--repeats 3]

Prints compile time and neuron-steps per second in float64 and float32, and writes
experiments/results/bench_simulate.json (machine, versions, numbers). The batch is
`scjax.simulate_batch` over g_Na (±10 % spread) with one shared current trace.
"""

import argparse
import json
import os
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)  # float64 available; float32 is asked for per run

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import scjax  # noqa: E402


def bench(n_neurons: int, n_steps: int, dtype, repeats: int) -> dict:
    current = jnp.full(n_steps, 10.0, dtype=dtype)
    g_na = scjax.shard_batch(jnp.linspace(108.0, 132.0, n_neurons, dtype=dtype))

    @jax.jit
    def run(g_na, current):
        # Only the final state is kept (save_every = T): memory independent of T.
        tr = scjax.simulate_batch(
            scjax.HodgkinHuxley(g_na=g_na, integrator="rk4"), current, 0.01, save_every=n_steps
        )
        return tr.y[:, -1], tr.spikes.sum(axis=1)

    start = time.perf_counter()
    compiled = run.lower(g_na, current).compile()
    compile_s = time.perf_counter() - start
    jax.block_until_ready(compiled(g_na, current))  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        y_last, counts = jax.block_until_ready(compiled(g_na, current))
        times.append(time.perf_counter() - start)
    best = float(np.median(times))
    return {
        "dtype": jnp.dtype(dtype).name,
        "neurons": n_neurons,
        "steps": n_steps,
        "compile_s": compile_s,
        "run_s_median": best,
        "run_s_all": times,
        "neuron_steps_per_s": n_neurons * n_steps / best,
        "mean_spikes": float(jnp.mean(counts)),
        "finite": bool(jnp.all(jnp.isfinite(y_last))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--neurons", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--out", default=os.path.join(os.path.dirname(__file__), "results", "bench_simulate.json")
    )
    args = parser.parse_args()
    results = [
        bench(args.neurons, args.steps, dt, args.repeats) for dt in (jnp.float64, jnp.float32)
    ]
    for r in results:
        print(
            f"{r['dtype']}: compile {r['compile_s']:.2f} s, run {r['run_s_median']:.3f} s, "
            f"{r['neuron_steps_per_s']:.3g} neuron-steps/s, mean spikes {r['mean_spikes']:.1f}"
        )
    record = {
        "benchmark": "HH RK4, simulate_batch over g_Na, dt 0.01 ms",
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpu_count": os.cpu_count(),
            "devices": [str(d) for d in jax.devices()],
            "xla_flags": os.environ.get("XLA_FLAGS", ""),
        },
        "versions": {"jax": jax.__version__, "scjax": scjax.__version__},
        "results": results,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(record, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
