"""FitzHugh–Nagumo: a phase plane with nullclines and a bifurcation diagram.

The Hopf point is located by `scjax.analysis.bifurcation_scan`; for FitzHugh–Nagumo it has a
closed form (trace of the Jacobian zero: v*² = 1 − b/τ_w, I = v*³/3 − v* + (v* + a)/b),
printed next to it.

Run: `python examples/phase_plane.py [--small] [--out DIR]`.
"""

import matplotlib.pyplot as plt
import numpy as np
from _gallery import save, setup, summary

import scjax

out, small = setup(__doc__)
model = scjax.FitzHughNagumo()
bounds = [(-2.5, 2.5), (-1.0, 3.0)]
dt = 0.05
duration = 100.0 if small else 400.0
current = 0.5

tr = scjax.simulate(model, np.full(int(duration / dt), current), dt)
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
scjax.analysis.plot_phase_portrait(
    model, current, bounds, ax=axes[0], trajectory=tr, resolution=120 if small else 200
)
axes[0].set_title(f"FitzHugh–Nagumo phase plane, I = {current}", fontsize=9)

currents = np.linspace(0.0, 1.6, 9 if small else 41)
scan = scjax.analysis.bifurcation_scan(model, currents, bounds, dt=dt, duration=duration)
scjax.analysis.plot_bifurcation(scan, ax=axes[1])
axes[1].set_title("bifurcation diagram (fixed points, limit-cycle envelope of v)", fontsize=9)
fig.tight_layout()
save(fig, out, "phase_plane_fhn")

v_star = -np.sqrt(1.0 - model.b / model.tau_w)
hopf_theory = v_star**3 / 3.0 - v_star + (v_star + model.a) / model.b
hopf = [b.current for b in scan.bifurcations if b.kind == "hopf"]
summary(out, "phase_plane", {"hopf_currents": hopf, "hopf_theory_lower": float(hopf_theory)})
print("Hopf points:", hopf, "closed form (lower):", hopf_theory)
