"""Firing patterns: the seven Izhikevich (2003) presets and the seven Naud et al. (2008) AdEx
presets, each under its own step current.

Run: `python examples/firing_patterns.py [--small] [--out DIR]`.
"""

import matplotlib.pyplot as plt
import numpy as np

import scjax
from _gallery import save, setup, summary

out, small = setup(__doc__)
duration = 200.0 if small else 500.0  # ms
onset = 20.0

# Izhikevich: I = 10 from `onset` on, the default half-step scheme at dt = 0.25 ms (as in the
# paper's MATLAB code, which uses two 0.5 ms half steps per 1 ms).
dt = 0.25
n = int(duration / dt)
stim = scjax.stimulus.Step(onset=onset, amplitude=10.0)
presets = list(scjax.models.IZHIKEVICH_PRESETS)
fig, axes = plt.subplots(len(presets), 1, figsize=(7, 1.1 * len(presets)), sharex=True)
counts = {}
for ax, name in zip(axes, presets):
    tr = scjax.simulate(scjax.Izhikevich.preset(name), stim, dt, n_steps=n)
    counts[name] = int(tr.spike_count)
    ax.plot(tr.t, tr.state("v"), lw=0.7)
    ax.set_ylabel(name, rotation=0, labelpad=18)
    ax.set_ylim(-90, 40)
axes[-1].set_xlabel("t (ms)")
fig.suptitle("Izhikevich (2003) presets, I = 10 from t = 20 ms", fontsize=9)
fig.tight_layout()
save(fig, out, "izhikevich_patterns")

# AdEx: each Naud preset with its own current (pA), Euler at dt = 0.02 ms.
dt = 0.02
n = int(duration / dt)
presets = list(scjax.models.ADEX_PRESETS)
fig, axes = plt.subplots(len(presets), 1, figsize=(7, 1.1 * len(presets)), sharex=True)
adex_counts = {}
for ax, name in zip(axes, presets):
    current = scjax.models.ADEX_PRESETS[name][1]
    model = scjax.AdEx.preset(name)
    tr = scjax.simulate(model, scjax.stimulus.Step(onset=onset, amplitude=current), dt,
                        n_steps=n, record=("v",))
    adex_counts[name] = int(tr.spike_count)
    ax.plot(np.asarray(tr.t), np.asarray(tr.state("v")), lw=0.7, color="tab:red")
    ax.set_ylabel(name.replace("_", "\n"), rotation=0, labelpad=28, fontsize=8)
axes[-1].set_xlabel("t (ms)")
fig.suptitle("AdEx, Naud et al. (2008) presets, each with its step current", fontsize=9)
fig.tight_layout()
save(fig, out, "adex_patterns")
summary(out, "firing_patterns", {"duration_ms": duration, "izhikevich_spikes": counts,
                                 "adex_spikes": adex_counts})
print("spikes:", counts, adex_counts)
