"""Bifurcation scans of every two-state model and Hodgkin–Huxley, checked against closed forms
or an independent SciPy computation, with timings; writes
experiments/results/analysis_bifurcations.{json,png}.

    .venv/bin/python experiments/analysis_bifurcations.py
"""

import json
import os
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)  # an application: it may set this
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import scjax  # noqa: E402
from scjax.analysis import dynamics as dyn  # noqa: E402
from scjax.analysis import plot_bifurcation, plot_phase_portrait  # noqa: E402
from scjax.backends.scipy import hopf_current  # noqa: E402


def fhn_hopf():
    v = np.sqrt(1.0 - 0.8 / 12.5)
    return sorted(s * v**3 / 3.0 + s * v * (1 / 0.8 - 1) + 0.7 / 0.8 for s in (-1, 1))


def izh_rs():
    v_h = (0.02 - 5.0) / 0.08
    return {"hopf": [-(0.04 * v_h**2 + 4.8 * v_h + 140)], "saddle-node": [4.0]}


CASES = [
    # name, model, bounds, currents, dt, duration, portrait current, reference (kind → currents)
    (
        "FitzHughNagumo",
        scjax.FitzHughNagumo(),
        [(-2.5, 2.5), (-1.0, 3.0)],
        np.linspace(0.0, 1.6, 81),
        0.05,
        600.0,
        0.5,
        lambda: {"hopf": fhn_hopf()},
        "closed form: tr J = 0",
    ),
    (
        "Izhikevich RS",
        scjax.Izhikevich.preset("RS"),
        [(-90.0, 0.0), (-30.0, 10.0)],
        np.linspace(0.0, 12.0, 61),
        0.1,
        1000.0,
        5.0,
        izh_rs,
        "closed form: tr J = 0, disc = 0",
    ),
    (
        "MorrisLecar",
        scjax.MorrisLecar(),
        [(-80.0, 60.0), (0.0, 1.0)],
        np.linspace(40.0, 240.0, 81),
        0.1,
        1500.0,
        100.0,
        lambda: {
            "hopf": [
                hopf_current(scjax.MorrisLecar(), 60.0, 150.0),
                hopf_current(scjax.MorrisLecar(), 150.0, 240.0),
            ]
        },
        "scjax.backends.scipy.hopf_current: SciPy brentq on the FD-Jacobian's leading real part",
    ),
    (
        "HodgkinHuxley",
        scjax.HodgkinHuxley(),
        [(-90.0, 40.0), (0.0, 1.0), (0.0, 1.0), (0.0, 1.0)],
        np.linspace(0.0, 20.0, 41),
        0.01,
        300.0,
        None,
        lambda: {"hopf": [hopf_current(scjax.HodgkinHuxley(), 6.0, 14.0)]},
        "scjax.backends.scipy.hopf_current: SciPy brentq on the FD-Jacobian's leading real part",
    ),
]


def main() -> int:
    out_dir = os.path.join(os.path.dirname(__file__), "results")
    os.makedirs(out_dir, exist_ok=True)
    fig, axes = plt.subplots(2, len(CASES), figsize=(4.6 * len(CASES), 8.4))
    results = {}
    for col, (name, model, bounds, currents, dt, duration, i_pp, ref, how) in enumerate(CASES):
        start = time.perf_counter()
        scan = dyn.bifurcation_scan(
            model, currents, bounds, 2 if model.n_state == 4 else None, dt=dt, duration=duration
        )
        t_scan = time.perf_counter() - start
        start = time.perf_counter()
        rates = np.asarray(dyn.fi_curve(model, currents, dt, duration))
        t_fi = time.perf_counter() - start
        expected = ref()
        found = {"hopf": scan.hopf_currents(), "saddle-node": scan.saddle_node_currents()}
        errors = {
            k: float(np.max(np.abs(np.asarray(found[k]) - np.asarray(v))))
            if len(found[k]) == len(v)
            else None
            for k, v in expected.items()
        }
        results[name] = {
            "bifurcations": [
                {
                    "kind": b.kind,
                    "current": b.current,
                    "onset_frequency_hz": 1000 * abs(b.eigenvalues[0].imag) / (2 * np.pi),
                    "state": b.state.tolist(),
                }
                for b in scan.bifurcations
            ],
            "reference": expected,
            "reference_method": how,
            "max_abs_error": errors,
            "rheobase_grid": float(currents[rates > 0].min()) if np.any(rates > 0) else None,
            "max_rate_hz": float(rates.max()),
            "n_currents": len(currents),
            "seconds_scan_with_envelope": t_scan,
            "seconds_fi_curve": t_fi,
        }
        print(
            f"{name}: {found} vs {expected} (max |err| {errors}); scan {t_scan:.1f} s, "
            f"F–I {t_fi:.1f} s"
        )
        plot_bifurcation(scan, ax=axes[0, col])
        axes[0, col].set_title(f"{name}: bifurcation diagram", fontsize=9)
        if i_pp is not None:
            traj = scjax.simulate(model, np.full(int(duration / dt), i_pp), dt)
            plot_phase_portrait(model, i_pp, bounds, ax=axes[1, col], trajectory=traj)
        else:
            ax = axes[1, col]
            ax.plot(currents, rates, "o-", ms=3)
            for h in scan.hopf_currents():
                ax.axvline(h, color="tab:green", ls="--", lw=1, label=f"Hopf {h:.4f}")
            ax.set_xlabel("current (µA/cm²)")
            ax.set_ylabel("firing rate (Hz), step from rest")
            ax.set_title("HodgkinHuxley: F–I curve", fontsize=9)
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "analysis_bifurcations.png"), dpi=110)
    with open(os.path.join(out_dir, "analysis_bifurcations.json"), "w") as f:
        json.dump(
            {"jax": jax.__version__, "device": str(jax.devices()[0]), "models": results},
            f,
            indent=2,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
