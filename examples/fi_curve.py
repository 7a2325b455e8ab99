"""F–I curves: steady-state firing rate against constant current for LIF (with its
closed-form rate), Izhikevich RS and Hodgkin–Huxley.

The LIF rate has a closed form, r = 1 / (τ_m ln(R I / (R I − (V_th − V_rest)))) above the
rheobase (no refractory period, reset to V_rest), printed next to the simulated one.

Run: `python examples/fi_curve.py [--small] [--out DIR]`.
"""

import matplotlib.pyplot as plt
import numpy as np
from _gallery import save, setup, summary

import scjax

out, small = setup(__doc__)
n_points = 9 if small else 25
duration = 500.0 if small else 2000.0  # ms; the rate is counted over the second half

lif = scjax.LIF()
lif_currents = np.linspace(10.0, 40.0, n_points)
lif_rates = np.asarray(scjax.analysis.fi_curve(lif, lif_currents, 0.01, duration))
drive = lif.r_m * lif_currents
with np.errstate(divide="ignore", invalid="ignore"):
    theory = np.where(
        drive > lif.v_th - lif.v_rest,
        1000.0 / (lif.tau_m * np.log(drive / (drive - (lif.v_th - lif.v_rest)))),
        0.0,
    )

izh_currents = np.linspace(0.0, 20.0, n_points)
izh_rates = np.asarray(
    scjax.analysis.fi_curve(scjax.Izhikevich.preset("RS"), izh_currents, 0.25, duration)
)
hh_currents = np.linspace(0.0, 20.0, n_points)
hh_rates = np.asarray(
    scjax.analysis.fi_curve(scjax.HodgkinHuxley(integrator="rk4"), hh_currents, 0.01, duration)
)

fig, axes = plt.subplots(1, 3, figsize=(10, 3))
scjax.analysis.plot_fi_curve(lif_currents, lif_rates, ax=axes[0], label="simulated, dt 0.01")
axes[0].plot(lif_currents, theory, "k--", lw=1, label="closed form")
axes[0].legend(fontsize=7)
axes[0].set_title("LIF (nA)", fontsize=9)
scjax.analysis.plot_fi_curve(izh_currents, izh_rates, ax=axes[1])
axes[1].set_title("Izhikevich RS (type I)", fontsize=9)
scjax.analysis.plot_fi_curve(hh_currents, hh_rates, ax=axes[2])
axes[2].set_title("Hodgkin–Huxley, RK4 (type II, µA/cm²)", fontsize=9)
fig.tight_layout()
save(fig, out, "fi_curve")
summary(
    out,
    "fi_curve",
    {
        "lif_currents": lif_currents.tolist(),
        "lif_rates_hz": lif_rates.tolist(),
        "lif_theory_hz": theory.tolist(),
        "izhikevich_rs_rates_hz": izh_rates.tolist(),
        "hh_currents": hh_currents.tolist(),
        "hh_rates_hz": hh_rates.tolist(),
    },
)
print("LIF simulated vs closed form (Hz):", np.round(lif_rates, 2), np.round(theory, 2))
