"""Firing patterns: the seven Izhikevich (2003) presets and the seven Naud et al. (2008) AdEx
presets, each under its own step current. Each model's presets run as one batch
(`scjax.simulate_batch` with per-neuron parameters): one compiled loop per model.

Run: `python examples/firing_patterns.py [--small] [--out DIR]`.
"""

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from _gallery import save, setup, summary

import scjax

out, small = setup(__doc__)
duration = 200.0 if small else 500.0  # ms
onset = 20.0


def batch_of(presets: dict, build) -> scjax.models.AbstractNeuronModel:
    """One model whose fields are `[len(presets)]` arrays, one neuron per preset."""
    models = [build(name) for name in presets]
    names = models[0].param_names
    return type(models[0])(**{n: jnp.asarray([getattr(m, n) for m in models]) for n in names})


def plot(tr, names, color, title, name):
    fig, axes = plt.subplots(len(names), 1, figsize=(7, 1.1 * len(names)), sharex=True)
    for i, (ax, preset) in enumerate(zip(axes, names)):
        ax.plot(np.asarray(tr.t[i]), np.asarray(tr.state("v")[i]), lw=0.7, color=color)
        ax.set_ylabel(preset.replace("_", "\n"), rotation=0, labelpad=28, fontsize=8)
    axes[-1].set_xlabel("t (ms)")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save(fig, out, name)


# Izhikevich: I = 10 from `onset` on, the default half-step scheme at dt = 0.25 ms (the
# paper's MATLAB code takes two 0.5 ms half steps per 1 ms).
presets = scjax.models.IZHIKEVICH_PRESETS
dt = 0.25
tr = scjax.simulate_batch(
    batch_of(presets, scjax.Izhikevich.preset),
    scjax.stimulus.Step(onset=onset, amplitude=jnp.full(len(presets), 10.0)),
    dt,
    n_steps=int(duration / dt),
)
counts = dict(zip(presets, map(int, tr.spike_count)))
plot(
    tr,
    list(presets),
    "tab:blue",
    "Izhikevich (2003) presets, I = 10 from t = 20 ms",
    "izhikevich_patterns",
)

# AdEx: each Naud preset with its own current (pA), Euler at dt = 0.02 ms.
presets = scjax.models.ADEX_PRESETS
dt = 0.02
currents = jnp.asarray([current for _, current in presets.values()])
tr = scjax.simulate_batch(
    batch_of(presets, scjax.AdEx.preset),
    scjax.stimulus.Step(onset=onset, amplitude=currents),
    dt,
    n_steps=int(duration / dt),
    record=("v",),
)
adex_counts = dict(zip(presets, map(int, tr.spike_count)))
plot(
    tr,
    list(presets),
    "tab:red",
    "AdEx, Naud et al. (2008) presets, each with its step current",
    "adex_patterns",
)

summary(
    out,
    "firing_patterns",
    {"duration_ms": duration, "izhikevich_spikes": counts, "adex_spikes": adex_counts},
)
print("spikes:", counts, adex_counts)
