"""Spike-train metrics at scale: CV and Fano factor of Poisson trains against 1 as the trains
grow, van Rossum's closed form against the numerical integral of filtered trains, and the
throughput of the batched distances; writes experiments/results/analysis_spike_metrics.json.

    .venv/bin/python experiments/analysis_spike_metrics.py
"""

import json
import os
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)  # an application: it may set this
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from scjax.analysis import spikes as sp  # noqa: E402


def timed(fn, *args, repeats=3):
    jax.block_until_ready(fn(*args))  # compile
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    rng = np.random.default_rng(0)
    out = {"jax": jax.__version__, "device": str(jax.devices()[0])}

    # 1. Poisson statistics: the error shrinks like 1/√N (20 trains per N).
    poisson = []
    for n in (100, 1000, 10000, 100000):
        trains = np.cumsum(rng.exponential(1.0, (20, n)), axis=-1)
        cv = np.asarray(sp.cv_isi(trains, jnp.full(20, n)))
        t_stop = float(trains[:, -1].min())
        fano = np.asarray(sp.fano_factor(trains, jnp.full(20, n), 10.0, 0.0, t_stop))
        poisson.append(
            {
                "n_spikes": n,
                "cv_mean": float(cv.mean()),
                "cv_std": float(cv.std()),
                "fano_mean": float(fano.mean()),
                "fano_std": float(fano.std()),
            }
        )
        print(poisson[-1])
    out["poisson"] = poisson

    # 2. van Rossum: closed form vs trapezoid integral of exponential traces (dt = 1e-3).
    tau = 5.0
    a = np.sort(rng.uniform(0, 200, 30))
    b = np.sort(rng.uniform(0, 200, 25))
    t = np.arange(0.0, 300.0, 1e-3)
    fa = np.asarray(sp.exponential_traces(a, 30, t, tau))
    fb = np.asarray(sp.exponential_traces(b, 25, t, tau))
    numeric = float(np.sqrt(np.trapezoid((fa - fb) ** 2, t) / tau))
    exact = float(sp.van_rossum_distance(a, 30, b, 25, tau))
    out["van_rossum"] = {
        "closed_form": exact,
        "trapezoid_dt_1e-3": numeric,
        "relative_difference": abs(exact - numeric) / exact,
    }
    print(out["van_rossum"])

    # 3. Throughput: 1000 pairs of 100-spike trains on [0, 1000].
    pairs, n = 1000, 100
    x = jnp.asarray(np.sort(rng.uniform(0, 1000, (pairs, n)), axis=-1))
    y = jnp.asarray(np.sort(rng.uniform(0, 1000, (pairs, n)), axis=-1))
    c = jnp.full(pairs, n)
    out["throughput_1000_pairs_100_spikes_s"] = {
        "van_rossum": timed(lambda: sp.van_rossum_distance(x, c, y, c, 5.0)),
        "van_rossum_grad": timed(
            jax.jit(jax.grad(lambda x: jnp.sum(sp.van_rossum_distance(x, c, y, c, 5.0)))), x
        ),
        "isi_distance": timed(lambda: sp.isi_distance(x, c, y, c, 0.0, 1000.0)),
        "spike_distance": timed(lambda: sp.spike_distance(x, c, y, c, 0.0, 1000.0)),
    }
    print(out["throughput_1000_pairs_100_spikes_s"])
    path = os.path.join(os.path.dirname(__file__), "results", "analysis_spike_metrics.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
