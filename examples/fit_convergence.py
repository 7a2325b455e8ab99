"""A fit converging: recover Hodgkin–Huxley's g_Na and g_K from a voltage recording that
carries its own time column (`scjax.fitting.Recording`), restarts in one vmapped run,
Adam to reach the basin, then L-BFGS to converge in it.

Run: `python examples/fit_convergence.py [--small] [--out DIR]`.
"""

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from _gallery import save, setup, summary

import scjax

out, small = setup(__doc__)
dt = 0.01
n = 600 if small else 2_500  # 6 or 25 ms
restarts = 2 if small else 4
adam_steps, lbfgs_steps = (40, 15) if small else (60, 20)
truth = scjax.HodgkinHuxley(g_na=120.0, g_k=36.0)
current = jnp.where(jnp.arange(n) * dt >= 2.0, 10.0, 0.0)
recorded = scjax.simulate(truth, current, dt)
# A recording sampled with the current: v[i] at t[i] = i·dt (the time column makes the
# alignment explicit; a bare array of n samples would be refused as ambiguous).
data = scjax.fitting.Recording(t=np.asarray(recorded.t[:-1]), v=np.asarray(recorded.v[:-1]))
guess = scjax.HodgkinHuxley(g_na=100.0, g_k=30.0)
result = scjax.fit(
    guess,
    params=["g_na", "g_k"],
    current=current,
    dt=dt,
    target=data,
    loss="trace_mse",
    restarts=restarts,
    key=jax.random.key(0),
    optimizer=[(optax.adam(0.05), adam_steps), (optax.lbfgs(), lbfgs_steps)],
    steps=None,
)
fitted = scjax.simulate(result.model, current, dt)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for r in range(result.loss_history.shape[0]):
    axes[0].semilogy(result.loss_history[r], lw=0.8, label=f"restart {r}")
axes[0].axvline(adam_steps, color="k", lw=0.8, ls=":")
axes[0].set_xlabel("optimiser step (Adam, then L-BFGS from the dotted line)")
axes[0].set_ylabel("trace MSE (mV²)")
axes[0].legend(fontsize=7)
axes[0].set_title("loss per restart", fontsize=9)
axes[1].plot(recorded.t, recorded.v, "k", lw=2, label="recording")
axes[1].plot(fitted.t, fitted.v, "tab:orange", lw=1, label="fitted")
axes[1].set_xlabel("t (ms)")
axes[1].set_ylabel("V (mV)")
axes[1].legend(fontsize=7)
axes[1].set_title(
    f"g_Na = {result.params['g_na']:.3f}, g_K = {result.params['g_k']:.3f} (truth 120, 36)",
    fontsize=9,
)
fig.tight_layout()
save(fig, out, "fit_convergence")
summary(
    out,
    "fit_convergence",
    {
        "params": result.params,
        "loss": result.loss,
        "steps": [adam_steps, lbfgs_steps],
        "truth": {"g_na": 120.0, "g_k": 36.0},
    },
)
print("fitted", result.params, "loss", result.loss)
