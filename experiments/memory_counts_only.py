"""Peak RSS of counts-only batches does not grow with the number of steps (issue 9).

    python experiments/memory_counts_only.py    # -> experiments/results/memory_counts_only.json

Each configuration runs in its own subprocess (so `ru_maxrss` is that run's): Izhikevich RS,
B = 10⁵ neurons, each with its own constant current (`scjax.stimulus.Constant([B])`),
`spikes="count"`, `save_every=T`, float64, for T = 10³ and 10⁴ steps; plus the set-up time of
a dense `[10⁴, 10⁴]` float64 current batch (checks and transfer before the loop starts).
"""

import json
import os
import pathlib
import platform
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp, numpy as np, scjax
mode, batch, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
model = scjax.Izhikevich.preset("RS")
amp = 5.0 + 10.0 * np.arange(batch) / batch
current = np.repeat(amp[:, None], steps, axis=1) if mode == "dense_setup" else None
t = time.perf_counter()
if mode == "counts":
    tr = scjax.simulate_batch(model, scjax.stimulus.Constant(jnp.asarray(amp)), 0.5,
                              n_steps=steps, spikes="count", save_every=steps)
    total = int(jax.block_until_ready(tr.spike_count).sum())
    setup = None
else:  # dense [B, T] current (built before the clock): the checks up to the compiled loop
    import scjax.simulation._simulate as front
    calls = []
    original = front.run_loop
    def stop(*args, **kwargs):
        calls.append(time.perf_counter())
        raise KeyboardInterrupt
    front.run_loop = stop
    try:
        scjax.simulate_batch(model, current, 0.5, spikes="count", save_every=steps)
    except KeyboardInterrupt:
        pass
    setup = calls[0] - t
    total = None
wall = time.perf_counter() - t
print(json.dumps(dict(mode=mode, batch=batch, steps=steps, wall_s=wall, setup_s=setup,
                      spikes=total,
                      peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def run(*args):
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *map(str, args)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    rows = [
        run("counts", 100_000, 1_000),
        run("counts", 100_000, 10_000),
        run("dense_setup", 10_000, 10_000),
    ]
    for r in rows:
        print(r, flush=True)
    short, long = rows[0], rows[1]
    report = dict(
        experiment="memory_counts_only",
        machine=platform.processor() or platform.machine(),
        cpus=os.cpu_count(),
        load_average=list(os.getloadavg()),
        rows=rows,
        rss_ratio_T1e4_over_T1e3=long["peak_rss_mib"] / short["peak_rss_mib"],
        dense_1e4x1e4_setup_s=rows[2]["setup_s"],
    )
    out = pathlib.Path(__file__).parent / "results" / "memory_counts_only.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
