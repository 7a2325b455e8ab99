"""One voltage trace per model page: Hodgkin–Huxley, LIF, FitzHugh–Nagumo, Morris–Lecar and
the fixed-point LIF, each under a current step that makes it fire.

Run: `python examples/model_traces.py [--small] [--out DIR]`.
"""

import matplotlib.pyplot as plt
import numpy as np
from _gallery import save, setup, summary

import scjax

out, small = setup(__doc__)
scale = 0.5 if small else 1.0
# (name, model, dt ms, duration ms, onset ms, amplitude, y label, integrator note)
runs = [
    (
        "hodgkin_huxley",
        scjax.HodgkinHuxley(integrator="rk4"),
        0.01,
        100.0,
        10.0,
        10.0,
        "V (mV)",
        "RK4, dt 0.01 ms, I = 10 µA/cm²",
    ),
    ("lif", scjax.LIF(), 0.1, 200.0, 20.0, 20.0, "V (mV)", "Euler, dt 0.1 ms, I = 20 nA"),
    (
        "fitzhugh_nagumo",
        scjax.FitzHughNagumo(),
        0.05,
        200.0,
        20.0,
        0.5,
        "v",
        "Euler, dt 0.05, I = 0.5",
    ),
    (
        "morris_lecar",
        scjax.MorrisLecar(),
        0.05,
        500.0,
        50.0,
        100.0,
        "V (mV)",
        "Euler, dt 0.05 ms, I = 100 µA/cm²",
    ),
    (
        "fixed_point_lif",
        scjax.models.FixedPointLIF(dt=0.1),
        0.1,
        200.0,
        20.0,
        20.0,
        "V (mV)",
        "Q8.8 integer datapath, dt 0.1 ms, I = 20 nA",
    ),
]
counts = {}
for name, model, dt, duration, onset, amplitude, ylabel, note in runs:
    duration *= scale
    n = int(round(duration / dt))
    tr = scjax.simulate(model, scjax.stimulus.Step(onset=onset, amplitude=amplitude), dt, n_steps=n)
    v = np.asarray(tr.y[:, 0]) / (256.0 if name == "fixed_point_lif" else 1.0)
    counts[name] = int(tr.spike_count)
    fig, ax = plt.subplots(figsize=(7, 2.2))
    ax.plot(np.asarray(tr.t), v, lw=0.8)
    ax.set_xlabel("t (ms)" if name != "fitzhugh_nagumo" else "t")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{type(model).__name__}: {note}, from t = {onset:g}", fontsize=9)
    fig.tight_layout()
    save(fig, out, f"trace_{name}")
summary(out, "model_traces", {"spikes": counts, "scale": scale})
print("spikes:", counts)
