"""Accuracy of exponential Euler and Rush–Larsen against Euler and RK4 (issue 9, item 4).

Hodgkin–Huxley (I = 10 µA/cm²) and Morris–Lecar (Rinzel–Ermentrout Hopf set, I = 100 µA/cm²),
500 ms of constant current, integrators euler / rk4 / rush_larsen / exponential_euler at
dt ∈ {0.005, 0.01, 0.025, 0.05, 0.1} ms, each run by `scjax.simulate` (float64) and compared
with `scjax.adaptive.solve` (adaptive Tsit5, rtol 1e-8, root-found spike times):

- spike count, and whether the run diverged (non-finite state);
- max |t_k − t_k^ref| over the spikes both runs have (k-th spike against k-th spike; with
  unequal counts the missing ones are listed as count_error);
- wall time: the first call (compile + run) and the median of 3 warm calls;
- per integrator: the log-log slope of the spike-time error against dt and error/dt.
Spike times are the sample after each upward 0 mV crossing (resolution dt).

    .venv/bin/python experiments/accuracy_exponential_euler.py          # ~1–2 min on 2 cores

Writes experiments/results/accuracy_exponential_euler.json.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)  # a script: the reference needs float64

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import scjax  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "experiments" / "results" / "accuracy_exponential_euler.json"
INTEGRATORS = ("euler", "rk4", "rush_larsen", "exponential_euler")
DTS = (0.005, 0.01, 0.025, 0.05, 0.1)
CASES = {
    "hodgkin_huxley": (scjax.HodgkinHuxley, 10.0),
    "morris_lecar": (scjax.MorrisLecar, 100.0),
}


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def one_run(model, current, dt, reference_times, repeats):
    run = lambda: scjax.simulate(model, current, dt, throw=False)  # noqa: E731

    def block():
        tr = run()
        tr.y.block_until_ready()
        return tr

    tr, first = timed(block)
    warm = statistics.median(timed(block)[1] for _ in range(repeats))
    diverged = bool(tr.diverged)
    row = {
        "dt": dt,
        "n_steps": int(current.shape[0]),
        "diverged": diverged,
        "first_call_s": first,
        "warm_run_s": warm,
        "steps_per_s": current.shape[0] / warm,
    }
    if diverged:
        row.update(n_spikes=None, count_error=None, max_spike_time_error_ms=None)
        return row
    times = np.asarray(tr.spike_times())
    k = min(len(times), len(reference_times))
    row.update(
        n_spikes=int(len(times)),
        count_error=int(len(times) - len(reference_times)),
        max_spike_time_error_ms=(
            float(np.max(np.abs(times[:k] - reference_times[:k]))) if k else None
        ),
    )
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=500.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = {}
    for case, (cls, amplitude) in CASES.items():
        start = time.perf_counter()
        reference = scjax.adaptive.solve(cls(), (0.0, args.duration), amplitude)
        ref_s = time.perf_counter() - start
        reference_times = reference.spike_times_array()
        rows = []
        for integrator in INTEGRATORS:
            model = cls(integrator=integrator)
            for dt in DTS:
                current = jnp.full(int(round(args.duration / dt)), amplitude)
                row = one_run(model, current, dt, reference_times, args.repeats)
                row["integrator"] = integrator
                rows.append(row)
                print(
                    f"{case:15s} {integrator:18s} dt={dt:<6} spikes={row['n_spikes']} "
                    f"(ref {len(reference_times)}) max|dt_spike|="
                    f"{row['max_spike_time_error_ms']} warm={row['warm_run_s']:.4f}s"
                    + ("  DIVERGED" if row["diverged"] else ""),
                    flush=True,
                )
        summary = {}
        for integrator in INTEGRATORS:
            ok = [
                r
                for r in rows
                if r["integrator"] == integrator and r["max_spike_time_error_ms"] is not None
            ]
            dts = np.array([r["dt"] for r in ok])
            errors = np.array([r["max_spike_time_error_ms"] for r in ok])
            summary[integrator] = {
                "stable_dts": [float(d) for d in dts],
                # Spike times are grid samples (resolution dt), so errors near dt are floors.
                "loglog_slope": (
                    float(np.polyfit(np.log(dts), np.log(errors), 1)[0]) if len(ok) >= 2 else None
                ),
                "error_over_dt_median": float(np.median(errors / dts)) if len(ok) else None,
            }
        results[case] = {
            "summary": summary,
            "current": amplitude,
            "duration_ms": args.duration,
            "reference": {
                "n_spikes": int(len(reference_times)),
                "solve_s": ref_s,
                "solver": "Tsit5 rtol 1e-8 atol 1e-10",
                "first_spikes_ms": [float(t) for t in reference_times[:5]],
            },
            "runs": rows,
        }
    out = {
        "experiment": "accuracy_exponential_euler",
        "date": datetime.datetime.now(datetime.UTC).isoformat(),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg": os.getloadavg(),
            "jax": jax.__version__,
            "backend": jax.default_backend(),
        },
        "dtype": "float64",
        "total_s": time.perf_counter() - started,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out} in {out['total_s']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
