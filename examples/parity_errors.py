"""Parity errors per backend: a small `scjax.parity.run_parity` (every backend available on
this machine: the native Rust/Go/Mojo libraries after `make native`, SciPy, Julia with
juliacall) and the deviation of the adaptive reference from the SciPy golden traces
(experiments/results/cross_validation.json).

Run: `python examples/parity_errors.py [--small] [--out DIR]`.
"""

import json

import matplotlib.pyplot as plt
from _gallery import ROOT, save, setup, summary

out, small = setup(__doc__)
from scjax import parity  # noqa: E402  (parity needs the float64 that setup enabled)

n_steps = 200 if small else parity.TRACE_STEPS
# CI size: RK4 only (every backend implements it), default parameters, 200 steps.
report = parity.run_parity(
    n_random=0 if small else 2, n_steps=n_steps, integrators=("rk4",) if small else None
)
checked = [r for r in report["rows"] if r.get("available")]

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
labels, errors, colors = [], [], []
for r in checked:
    labels.append(f"{r['model']}\n{r['integrator']}\n{r['params']}")
    errors.append(max(r["max_rel"], 1e-17))  # bit-identical runs show at the floor
    colors.append(
        {
            "rust": "tab:orange",
            "go": "tab:cyan",
            "mojo": "tab:red",
            "scipy": "tab:green",
            "julia": "tab:purple",
        }.get(r["backend"], "k")
    )
backends = sorted({r["backend"] for r in checked})
for name in backends:
    idx = [i for i, r in enumerate(checked) if r["backend"] == name]
    axes[0].scatter(idx, [errors[i] for i in idx], s=14, label=name, color=[colors[i] for i in idx])
axes[0].axhline(parity.NATIVE_RTOL, color="k", lw=0.8, ls="--", label="native tolerance")
axes[0].set_yscale("log")
axes[0].set_xticks([])
axes[0].set_ylabel("max relative state error vs JAX")
axes[0].set_title(f"parity run: {len(checked)} comparisons, {n_steps} steps", fontsize=9)
axes[0].legend(fontsize=7)

golden = json.loads((ROOT / "experiments/results/cross_validation.json").read_text())["golden"]
names = list(golden)
axes[1].barh(names, [golden[n]["max_rel_dev"] for n in names], color="tab:gray")
axes[1].set_xscale("log")
axes[1].set_xlabel("max relative deviation, Tsit5 reference vs SciPy golden trace")
axes[1].tick_params(axis="y", labelsize=7)
fig.tight_layout()
save(fig, out, "parity_errors")
summary(
    out,
    "parity_errors",
    {
        "backends": report["backends"],
        "n_checked": report["n_checked"],
        "n_failed": report["n_failed"],
        "passed": report["passed"],
        "native_max_rel": max(
            [r["max_rel"] for r in checked if r["backend"] not in ("scipy", "julia")], default=None
        ),
    },
)
print(
    f"{report['n_checked']} comparisons, {report['n_failed']} failed;",
    {k: v if v is True else "unavailable" for k, v in report["backends"].items()},
)
