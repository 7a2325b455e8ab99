"""Cross-validation of every path against the adaptive reference; writes
experiments/results/cross_validation.json.

1. diffrax Tsit5 reference vs the SciPy DOP853 golden traces (reference/data): max deviation
   relative to each state's scale (smooth systems), spike count and max spike-time difference
   (spiking systems), plus the Izhikevich presets RS, IB, CH, LTS against SciPy directly.
2. Every fixed-step path (the model's historical integrator, Euler, RK4, Rosenbrock-Euler,
   ROS2, and the Q8.8 fixed-point LIF) at dt = 0.1 ms against the reference over 1 s: spike
   counts and mean firing rates (the seed's rule: rate within 5 %, count within ±2).

Run: `.venv/bin/python experiments/cross_validation.py`.
"""

import json
import pathlib
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import scjax  # noqa: E402
from scjax import adaptive  # noqa: E402
from scjax.backends import scipy as scipy_backend  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "reference" / "data"
OUT = ROOT / "experiments" / "results" / "cross_validation.json"
DT = 0.1
WINDOW_MS = 1000.0


def relative_deviation(y, y_ref) -> float:
    """max |y − y_ref| / scale, scale per component = max(max|y_ref_k|, 1e-3·max|y_ref|)."""
    y, y_ref = np.asarray(y), np.asarray(y_ref)
    scale = np.maximum(np.abs(y_ref).max(axis=0), 1e-3 * np.abs(y_ref).max())
    return float((np.abs(y - y_ref) / scale).max())


def compare_spikes(st, st_ref) -> dict:
    out = {"n_spikes": int(len(st)), "n_spikes_ref": int(len(st_ref))}
    if len(st) == len(st_ref) and len(st):
        out["max_spike_time_diff_ms"] = float(np.abs(np.asarray(st) - np.asarray(st_ref)).max())
    return out


def rate_rule(n, n_ref, window_ms=WINDOW_MS) -> dict:
    rate, rate_ref = 1000.0 * n / window_ms, 1000.0 * n_ref / window_ms
    rel = abs(rate - rate_ref) / rate_ref if rate_ref > 0 else float(n != 0)
    return {
        "n_spikes": int(n),
        "n_spikes_ref": int(n_ref),
        "rate_hz": rate,
        "rate_ref_hz": rate_ref,
        "rate_rel_dev": rel,
        "count_dev": int(n - n_ref),
        "passes": bool(rel <= 0.05 and abs(n - n_ref) <= 2),
    }


#: (system name, model factory, current) of the spiking paths judged by the rate rule.
SPIKING = {
    "lif": (scjax.LIF, 20.0),
    "izhikevich": (scjax.Izhikevich, 10.0),
    "hodgkin_huxley": (scjax.HodgkinHuxley, 10.0),
    "fitzhugh_nagumo": (scjax.FitzHughNagumo, 0.5),
    "adex": (scjax.AdEx, 800.0),
    "morris_lecar": (scjax.MorrisLecar, 100.0),
}
INTEGRATORS = ("euler", "half_euler", "rk4", "rosenbrock", "rosenbrock2")


def main() -> dict:
    t_start = time.perf_counter()
    table = {"golden": {}, "izhikevich_presets": {}, "fixed_step": {}, "fixed_point": {}}
    for name, system in adaptive.SYSTEMS.items():
        gold = np.load(DATA / f"{name}.npz")
        sol = adaptive.solve(system.make(), (0.0, system.span), system.current)
        row = {
            "span_ms": system.span,
            "max_rel_dev": relative_deviation(sol.trajectory.y, gold["y"]),
        }
        row.update(compare_spikes(sol.spike_times_array(), gold["spike_times"]))
        table["golden"][name] = row
        print(name, row, flush=True)
    for preset in ("RS", "IB", "CH", "LTS"):
        model = scjax.Izhikevich.preset(preset)
        sol = adaptive.solve(model, (0.0, WINDOW_MS), 10.0)
        st = scipy_backend.solve(model, (0.0, WINDOW_MS), 10.0).spike_times_array()
        table["izhikevich_presets"][preset] = compare_spikes(sol.spike_times_array(), st)
    for name, (make, current) in SPIKING.items():
        ref = adaptive.solve(make(), (0.0, WINDOW_MS), current)
        n_ref = int(ref.n_spikes)
        rows = {}
        for integrator in INTEGRATORS:
            try:
                model = make(integrator=integrator)
                tr = scjax.simulate(model, jnp.full(int(WINDOW_MS / DT), current), DT, throw=False)
                if bool(tr.diverged):
                    rows[integrator] = {"diverged": True, "passes": False}
                    continue
                rows[integrator] = rate_rule(int(tr.spike_count), n_ref)
            except ValueError as e:  # e.g. a Rosenbrock step refused on the upstroke
                rows[integrator] = {"refused": str(e)[:160]}
        rows["default"] = make().integrator
        table["fixed_step"][name] = rows
        print(name, {k: v.get("passes") if isinstance(v, dict) else v for k, v in rows.items()})
    lif_ref = {}
    for current in (20.0, 25.0, 30.0):
        sol = adaptive.solve(scjax.LIF(), (0.0, 2000.0), current)
        st = sol.spike_times_array()
        rate_ref = 1000.0 * (len(st) - 1) / (st[-1] - st[0])
        rows = {}
        for bits in (0, 256):
            tr = scjax.simulate(
                scjax.models.FixedPointLIF(bitstream_bits=bits), jnp.full(20000, current), DT
            )
            s = tr.spike_times()
            rate = 1000.0 * (len(s) - 1) / (s[-1] - s[0])
            rows["bitstream_256" if bits else "q8_8"] = {
                "rate_hz": rate,
                "rate_ref_hz": rate_ref,
                "rel_dev": abs(rate / rate_ref - 1),
            }
        lif_ref[str(current)] = rows
    table["fixed_point"] = lif_ref
    table["wall_s"] = time.perf_counter() - t_start
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(table, indent=2))
    print(f"wrote {OUT} in {table['wall_s']:.1f} s")
    return table


if __name__ == "__main__":
    main()
