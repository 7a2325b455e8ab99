"""Fitting spike times with `scjax.fit`: in-step event times against end-of-step runs over dt
(issue 12).

AdEx (Brette & Gerstner 2005 defaults, V_peak = V_T + 5Δ_T = −40.4 mV) under the three-sweep
protocol of tests/test_fit.py (a hyperpolarising and a depolarising pre-pulse before a test
step, and two steps separated by a pause: 4 + 3 + 10 spikes in 3 × 300 ms). The target is the
*adaptive reference's* spike train (`scjax.adaptive.solve`, Tsit5 with root-found events,
rtol 1e-12) at the true (a, b, τ_w) = (4 nS, 80.5 pA, 144 ms), so every fixed-step fit carries
its own discretisation bias. Every fit is one `scjax.fit` call from (1.3, 0.7, 1.3) × truth,
RK4 in both modes:

- `end_of_step`: the historical run (the spike and reset at the end of the step that crossed;
  spike times first order in dt whatever the solver), `loss="van_rossum"` on the grid through
  `SigmoidSurrogate(0.5)`: the recipe of tests/test_fit.py (Adam 0.02, 150 steps) then Adam
  0.002 for 100 more;
- `in_step`: `fit(events="in_step")`, the spike times located inside the step (RK4's own
  continuous extension, 4th order) differentiated exactly, no surrogate; `loss="spike_times"`
  (`losses.spike_time_mse`) with Adam 0.02 for 100 steps then L-BFGS for 40, and
  `loss="van_rossum"` (the closed form on the located times) with the end-of-step schedule.

Reported per row: the largest relative error of the fitted (a, b, τ_w), the spike-time RMS of
the fitted model *against the reference* (re-solved adaptively, k-th spike against k-th, over
the three sweeps; None if a count differs) and the wall time of the fit (compilation
included). Writes experiments/results/fit_spike_times_dt.json; `spike_time_convergence.py
--render-only` puts the table into docs/accuracy.md.

    PYTHONPATH=. .venv/bin/python experiments/fit_spike_times_dt.py     # ~8 min, 2 cores
"""

import datetime
import json
import pathlib
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)  # a script: the reference needs float64

import numpy as np  # noqa: E402
import optax  # noqa: E402

import scjax  # noqa: E402
from scjax.adaptive import solve as reference_solve  # noqa: E402
from scjax.solvers import RK4  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent / "results" / "fit_spike_times_dt.json"
TRUE = {"a": 4.0, "b": 80.5, "tau_w": 144.0}
START_FACTORS = {"a": 1.3, "b": 0.7, "tau_w": 1.3}
V_PEAK = -50.4 + 5 * 2.0
SPAN = 300.0
SEGMENT_MS = 10.0  # the protocol changes only at multiples of 10 ms
PROTOCOL = (  # (duration ms, amplitude pA) segments per sweep
    ((150, -600.0), (150, 750.0)),
    ((150, 450.0), (150, 750.0)),
    ((10, 0.0), (100, 1200.0), (100, 0.0), (90, 900.0)),
)
TIGHT = {"rtol": 1e-12, "atol": 1e-13, "max_steps": 10**6}
THRESHOLDS = (1e-2, 1e-3, 1e-4)  # parameter accuracy levels compared across dt
# (method, loss, dts); every dt divides the 10 ms segments. End-of-step needs small steps.
RUNS = (
    ("in_step", "spike_times", (0.5, 0.25, 0.1, 0.05, 0.025)),
    ("in_step", "van_rossum", (0.5, 0.25, 0.1)),
    ("end_of_step", "van_rossum", (0.5, 0.25, 0.1, 0.05, 0.025, 0.02, 0.01, 0.005)),
)
# One optimiser object per schedule: fits with the same one share compiled programs.
ADAM_SCHEDULE = [(optax.adam(0.02), 150), (optax.adam(0.002), 100)]
LBFGS_SCHEDULE = [(optax.adam(0.02), 100), (optax.lbfgs(), 40)]


def model_of(params):
    return scjax.AdEx(v_peak=V_PEAK, **params)


def coarse_currents():
    """The sweeps as piecewise-constant traces with one sample per 10 ms."""
    return [
        np.concatenate([np.full(int(d / SEGMENT_MS), amp) for d, amp in sweep])
        for sweep in PROTOCOL
    ]


def currents_at(dt):
    repeat = int(round(SEGMENT_MS / dt))
    assert abs(repeat * dt - SEGMENT_MS) < 1e-9, f"dt = {dt} does not divide {SEGMENT_MS} ms"
    return np.stack([np.repeat(c, repeat) for c in coarse_currents()])


def reference_times(params):
    return [
        reference_solve(
            model_of(params), (0.0, SPAN), c, current_dt=SEGMENT_MS, **TIGHT
        ).spike_times_array()
        for c in coarse_currents()
    ]


def run_fit(method, loss, dt, target):
    guess = model_of({k: v * START_FACTORS[k] for k, v in TRUE.items()})
    common = dict(
        params=tuple(TRUE),
        current=currents_at(dt),
        dt=dt,
        target=target,
        loss=loss,
        solver=RK4(),
        tau=10.0,
    )
    if method == "end_of_step":
        return scjax.fit(
            guess, surrogate=scjax.SigmoidSurrogate(0.5), optimizer=ADAM_SCHEDULE, **common
        )
    schedule = LBFGS_SCHEDULE if loss == "spike_times" else ADAM_SCHEDULE
    return scjax.fit(guess, events="in_step", optimizer=schedule, **common)


def main():
    start_all = time.perf_counter()
    target = reference_times(TRUE)
    counts = [int(t.size) for t in target]
    print("reference spike counts", counts, flush=True)
    rows = []
    for method, loss, dts in RUNS:
        for dt in dts:
            start = time.perf_counter()
            try:
                result = run_fit(method, loss, dt, target)
            except scjax.fitting.FitFailedError as err:
                row = {"method": method, "loss": loss, "dt": dt, "failure": str(err)[:300]}
                row["seconds"] = round(time.perf_counter() - start, 1)
                rows.append(row)
                print(json.dumps(row), flush=True)
                continue
            seconds = time.perf_counter() - start
            fitted = reference_times(result.params)
            rms = None
            if [f.size for f in fitted] == counts:
                residuals = np.concatenate([f - t for f, t in zip(fitted, target)])
                rms = float(np.sqrt(np.mean(residuals**2)))
            row = {
                "method": method,
                "loss": loss,
                "dt": dt,
                "failure": None,
                "params": result.params,
                "param_rel_error": max(abs(result.params[k] / v - 1) for k, v in TRUE.items()),
                "reference_residual_rms_ms": rms,
                "final_loss": result.loss,
                "seconds": round(seconds, 1),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    summary = {}
    for threshold in THRESHOLDS:
        summary[f"largest dt with param err <= {threshold:g}"] = {
            f"{m} {loss}": max(
                (
                    r["dt"]
                    for r in rows
                    if (r["method"], r["loss"]) == (m, loss)
                    and r["failure"] is None
                    and r["param_rel_error"] <= threshold
                ),
                default=None,
            )
            for m, loss, _ in RUNS
        }
    result = {
        "model": "AdEx (Brette & Gerstner 2005), V_peak = V_T + 5 Delta_T",
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {jax.default_backend()}, jax {jax.__version__}",
        "protocol": [list(map(list, sweep)) for sweep in PROTOCOL],
        "span_ms": SPAN,
        "true": TRUE,
        "start_factors": START_FACTORS,
        "reference_counts": counts,
        "reference_tolerances": TIGHT,
        "target_times": [t.tolist() for t in target],
        "schedules": {
            "end_of_step van_rossum, in_step van_rossum": "adam(0.02) x 150, adam(0.002) x 100",
            "in_step spike_times": "adam(0.02) x 100, lbfgs x 40",
        },
        "rows": rows,
        "summary": summary,
        "total_seconds": round(time.perf_counter() - start_all, 1),
    }
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
