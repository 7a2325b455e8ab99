"""A batch of Izhikevich RS neurons with heterogeneous drive and Ornstein–Uhlenbeck noise:
the histogram of their firing rates, with spike counts recorded in the loop (memory
independent of the number of steps).

Run: `python examples/batch_rates.py [--small] [--out DIR]`.
"""

import jax
import matplotlib.pyplot as plt
import numpy as np
import scipy.stats
from _gallery import save, setup, summary

import scjax

out, small = setup(__doc__)
B = 2_000 if small else 20_000
dt = 0.5
n_steps = 1_000 if small else 4_000
model = scjax.Izhikevich.preset("RS")
key = jax.random.key(0)
mean_drive = jax.random.uniform(jax.random.key(1), (B,), minval=2.0, maxval=14.0)
stim = scjax.stimulus.Constant(mean_drive) + scjax.stimulus.OrnsteinUhlenbeck(
    mean=0.0, std=2.0, tau=5.0
)
tr = scjax.simulate_batch(
    model, stim, dt, n_steps=n_steps, key=key, spikes="count", save_every=n_steps
)
rates = np.asarray(tr.spike_count) / (n_steps * dt / 1000.0)

fig, axes = plt.subplots(1, 2, figsize=(9, 3))
axes[0].hist(rates, bins=40, color="tab:blue")
axes[0].set_xlabel("firing rate (Hz)")
axes[0].set_ylabel("neurons")
axes[0].set_title(f"{B} RS neurons, {n_steps * dt:g} ms, OU noise", fontsize=9)
axes[1].plot(np.asarray(mean_drive), rates, ".", ms=1)
axes[1].set_xlabel("mean drive I")
axes[1].set_ylabel("firing rate (Hz)")
fig.tight_layout()
save(fig, out, "batch_rates")
rank = scipy.stats.spearmanr(np.asarray(mean_drive), rates).statistic
summary(
    out,
    "batch_rates",
    {
        "B": B,
        "n_steps": n_steps,
        "mean_rate_hz": float(rates.mean()),
        "silent_fraction": float(np.mean(rates == 0)),
        "rate_drive_rank_correlation": float(rank),
    },
)
print(f"{B} neurons: mean rate {rates.mean():.1f} Hz, {np.mean(rates == 0):.0%} silent")
