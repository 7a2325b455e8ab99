"""Spike-time accuracy of the fixed-step loop, both event modes (issue 12).

For each model × integrator × dt: `scjax.simulate(..., spikes="times", events=mode)` with
mode ∈ {"end_of_step", "in_step"} against the adaptive reference (diffrax Tsit5 + root-found
events, rtol 1e-12, atol 1e-13) over the same span of constant current:

- the spike count of both (a count that differs is reported, and then no time error);
- max |t_k − t_k^ref| over the spikes (k-th against k-th);
- per model × integrator × mode, the log-log slope of that error against dt (the measured
  order), fitted over the dts where the counts agree.

All dts of one model × integrator × mode run the same number of steps (the span of the smallest
dt; larger dts simulate past it and only spikes inside the span are compared), so each is one
compiled loop. The script writes experiments/results/spike_time_convergence.json and renders
the table into docs/accuracy.md (measured numbers only).

    PYTHONPATH=. .venv/bin/python experiments/spike_time_convergence.py     # ~3–5 min, 2 cores
"""

import argparse
import datetime
import json
import pathlib
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)  # a script: the reference needs float64

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import scjax  # noqa: E402
from scjax.solvers import solver_from_name  # noqa: E402

try:  # the adaptive reference moved to scjax.adaptive (same `solve` signature)
    from scjax.adaptive import solve as reference_solve  # noqa: E402
except ImportError:
    from scjax.reference import solve as reference_solve  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "experiments" / "results" / "spike_time_convergence.json"
DEFAULT_DOC = ROOT / "docs" / "accuracy.md"
MODES = ("end_of_step", "in_step")
SPAN = 200.0  # ms
REFERENCE_TOLERANCES = dict(rtol=1e-12, atol=1e-13, max_steps=10**6)
COARSE = (0.1, 0.05, 0.025, 0.0125)
FINE = (0.05, 0.025, 0.0125, 0.00625)


def _cases():
    """name → (model factory, current, {integrator: dts}, note)."""
    both = {"euler": COARSE, "rk4": COARSE}
    return {
        "lif": (scjax.LIF, 25.0, {"euler": (0.4, 0.2, 0.1, 0.05), "rk4": (0.8, 0.4, 0.2, 0.1)},
                "LIF defaults, I = 25 (V_th −50 mV)"),
        "izhikevich_rs": (lambda: scjax.Izhikevich.preset("RS"), 10.0,
                          {"half_euler": COARSE, "euler": COARSE, "rk4": COARSE},
                          "Izhikevich RS, I = 10 (v_peak 30 mV)"),
        "adex_tonic_vt5": (lambda: scjax.AdEx.preset("tonic", v_peak=-40.0), 500.0,
                           {"euler": COARSE, "rk4": FINE},
                           "AdEx Naud tonic, V_peak = V_T + 5Δ_T = −40 mV, I = 500 pA"),
        "adex_tonic": (lambda: scjax.AdEx.preset("tonic"), 500.0, both,
                       "AdEx Naud tonic, V_peak 0 mV (Naud et al. 2008), I = 500 pA"),
        "adex": (scjax.AdEx, 800.0, both,
                 "AdEx Brette & Gerstner 2005 defaults, V_peak 20 mV, I = 800 pA"),
        "hodgkin_huxley": (scjax.HodgkinHuxley, 10.0, both, "HH 1952, I = 10 µA/cm²"),
        "fitzhugh_nagumo": (scjax.FitzHughNagumo, 0.5, {"euler": COARSE, "rk4": (0.4, 0.2,
                                                                                0.1, 0.05)},
                            "FHN defaults, I = 0.5"),
        "morris_lecar": (scjax.MorrisLecar, 100.0, both, "Morris–Lecar defaults, I = 100"),
    }


def _slope(dts, errors):
    ok = [(d, e) for d, e in zip(dts, errors) if e is not None and e > 0]
    if len(ok) < 2:
        return None
    d, e = np.log(np.array(ok)).T
    return float(np.polyfit(d, e, 1)[0])


def run_case(name, make, current, integrators, note):
    model = make()
    n_steps = {k: int(round(SPAN / min(dts))) for k, dts in integrators.items()}
    start = time.perf_counter()
    ref = reference_solve(model, (0.0, SPAN), current, max_spikes=4096, **REFERENCE_TOLERANCES)
    ref_times = ref.spike_times_array()
    ref_seconds = time.perf_counter() - start
    rows = []
    for integrator, dts in integrators.items():
        solver = solver_from_name(integrator, fast_mask=model.fast_mask)
        n = n_steps[integrator]
        for mode in MODES:
            errors, counts, seconds = [], [], []
            for dt in dts:
                start = time.perf_counter()
                tr = scjax.simulate(model, jnp.full(n, current), dt, solver=solver,
                                    spikes="times", max_spikes=8192, events=mode,
                                    throw=False)
                times = np.asarray(tr.spike_time_buffer)
                seconds.append(time.perf_counter() - start)
                times = times[times <= SPAN]
                counts.append(int(times.size))
                inside = np.asarray(tr.y[: int(round(SPAN / dt)) + 1])
                diverged = not np.all(np.isfinite(inside))
                if times.size == ref_times.size and times.size and not diverged:
                    errors.append(float(np.max(np.abs(times - ref_times))))
                else:
                    errors.append(None)
            rows.append(dict(model=name, integrator=integrator, mode=mode, dts=list(dts),
                             reference_count=int(ref_times.size), counts=counts,
                             max_error_ms=errors, order=_slope(dts, errors),
                             seconds=[round(s, 3) for s in seconds]))
            print(f"{name:16s} {integrator:10s} {mode:11s} counts {counts} (ref "
                  f"{ref_times.size}) err {['%.2g' % e if e else None for e in errors]} "
                  f"order {rows[-1]['order']}", flush=True)
    return dict(note=note, current=current, reference_seconds=round(ref_seconds, 2),
                reference_times=ref_times.tolist()), rows


def render(result) -> str:
    lines = [
        "# Spike-time accuracy of the fixed-step loop",
        "",
        "Measured by `experiments/spike_time_convergence.py` (this page is generated by it; "
        f"{result['date']}, {result['machine']}). Each run: {SPAN:g} ms of constant current "
        "in float64, `scjax.simulate(..., spikes=\"times\", events=mode)`, against the "
        "adaptive reference (diffrax Tsit5 with root-found events, rtol 1e-12, atol 1e-13). "
        "*err* is the largest |t_k − t_k^ref| over all spikes in ms (k-th spike against k-th); "
        "*n* the spike count (the reference's in the header); **order** the log-log slope of "
        "err against dt.",
        "",
        "## Which mode, which integrator",
        "",
        "- `events=\"end_of_step\"` (default, the historical rule) resets at the end of the "
        "step that crossed: spike times are first order in dt for every integrator (RK4 "
        "included), and the lateness accumulates over spikes.",
        "- `events=\"in_step\"` locates the crossing inside the step on the solver's own "
        "step of size s (Φ(y_n, s), the solver's continuous extension: linear for Euler, "
        "4th order for RK4), resets there and integrates the rest of the step. Spike times "
        "then keep the solver's order where the dynamics is resolved by dt, and are "
        "differentiable (implicit-function rule, no surrogate).",
        "- AdEx with a high V_peak (0 mV in Naud et al., 20 mV in Brette & Gerstner) has an "
        "upstroke whose rate g_L·exp((V − V_T)/Δ_T)/C passes 1/dt in the last step before "
        "the peak: no fixed-step method resolves it, and spike times converge at first order "
        "with either mode (in-step is still several times closer). With V_peak = V_T + 5Δ_T "
        "(the convention of Brian 2 and Touboul & Brette 2008) the spike is the same to "
        "within a fraction of a millisecond and RK4 + in-step converges at 4th order. For "
        "spike-time fits on such AdEx models use that V_peak, or the adaptive reference.",
        "- Crossing models (HH, FHN, Morris–Lecar) do not reset; in-step only interpolates "
        "the crossing time (the trajectory is unchanged), so their spike times follow the "
        "integrator's order instead of dt.",
        "- RK4's in-step dense output is Φ(y_n, s) itself rather than a Hermite cubic "
        "through y_n, y_{n+1}, f(y_n), f(y_{n+1}): the cubic is as accurate (O(h⁴)) where "
        "the vector field is smooth past the threshold (LIF, Izhikevich) but AdEx's field "
        "is clamped at V_peak, and the crossing step's end point, integrated through that "
        "kink, is only O(h²).",
        "",
    ]
    for name, case in result["cases"].items():
        rows = [r for r in result["rows"] if r["model"] == name]
        lines += [f"## {name}", "", f"{case['note']}; reference: "
                  f"{len(case['reference_times'])} spikes.", ""]
        header = "| integrator | dt (ms) | end_of_step n | end_of_step err | in_step n | " \
                 "in_step err |"
        lines += [header, "|---|---|---|---|---|---|"]
        for integrator in dict.fromkeys(r["integrator"] for r in rows):
            pair = {r["mode"]: r for r in rows if r["integrator"] == integrator}
            end, ins = pair["end_of_step"], pair["in_step"]
            for k, dt in enumerate(end["dts"]):
                lines.append(f"| {integrator} | {dt:g} | {end['counts'][k]} | "
                             f"{_fmt(end['max_error_ms'][k])} | {ins['counts'][k]} | "
                             f"{_fmt(ins['max_error_ms'][k])} |")
            lines.append(f"| {integrator} | **order** | | **{_fmt_order(end['order'])}** | "
                         f"| **{_fmt_order(ins['order'])}** |")
        lines.append("")
    return "\n".join(lines)


def _fmt(e):
    return "count differs" if e is None else f"{e:.2g}"


def _fmt_order(o):
    return "–" if o is None else f"{o:.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    parser.add_argument("--doc", type=pathlib.Path, default=DEFAULT_DOC)
    args = parser.parse_args()
    start = time.perf_counter()
    cases, rows = {}, []
    for name, (make, current, integrators, note) in _cases().items():
        case, case_rows = run_case(name, make, current, integrators, note)
        cases[name] = case
        rows += case_rows
    result = dict(
        date=datetime.date.today().isoformat(),
        machine=f"{platform.machine()}, {jax.default_backend()}, jax {jax.__version__}",
        span_ms=SPAN, reference_tolerances=REFERENCE_TOLERANCES, cases=cases, rows=rows,
        total_seconds=None,
    )
    result["total_seconds"] = round(time.perf_counter() - start, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    args.doc.write_text(render(result) + "\n")
    print(f"wrote {args.out} and {args.doc} in {result['total_seconds']} s")


if __name__ == "__main__":
    main()
