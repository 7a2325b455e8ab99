"""Fit Izhikevich (a, b, c, d) to the spike train of the RS cell with the van Rossum loss
(sigmoid surrogate, 8 vmapped restarts), starting 30 % off.

Writes experiments/results/fit_izhikevich.json and fit_izhikevich.png.
Run: .venv/bin/python experiments/fit_izhikevich.py
"""

import json
import pathlib

import jax

jax.config.update("jax_enable_x64", True)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import scjax  # noqa: E402
from scjax._fit import fit  # noqa: E402

OUT = pathlib.Path(__file__).parent / "results"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    dt = 0.1
    n = int(round(150.0 / dt))
    current = np.where(np.arange(n) * dt > 10.0, 10.0, 0.0)
    true = scjax.Izhikevich.preset("RS")
    target = scjax.simulate(true, current, dt)
    guess = scjax.Izhikevich(a=0.02 * 1.3, b=0.2 * 0.7, c=-65.0 * 0.7, d=8.0 * 1.3)
    result = fit(guess, current=current, dt=dt, target=target, params=("a", "b", "c", "d"),
                 loss="van_rossum", tau=10.0, surrogate="sigmoid",
                 optimizer=optax.adam(0.03), steps=200, restarts=8, key=jax.random.key(0))
    fitted = scjax.simulate(result.model, current, dt)
    t_target, t_fit = target.spike_times(), fitted.spike_times()
    same_count = len(t_target) == len(t_fit)
    summary = {
        "model": "Izhikevich", "loss": "van_rossum", "tau_ms": 10.0, "surrogate": "sigmoid",
        "dt_ms": dt, "n_steps": n, "restarts": 8,
        "true": {k: float(getattr(true, k)) for k in "abcd"},
        "initial_guess": {k: float(getattr(guess, k)) for k in "abcd"},
        "recovered": result.params, "final_loss": result.loss,
        "best_restart": result.best_restart, "restart_losses": result.restart_losses.tolist(),
        "target_spike_times_ms": t_target.tolist(), "fit_spike_times_ms": t_fit.tolist(),
        "same_spike_count": same_count,
        "max_spike_time_error_ms": float(np.max(np.abs(t_target - t_fit))) if same_count
        else None,
        "wall_time_s": result.wall_time_s,
        "loss_curve": result.loss_history[result.best_restart].tolist(),
    }
    (OUT / "fit_izhikevich.json").write_text(json.dumps(summary, indent=2))

    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(11, 3.5), width_ratios=(3, 1))
    ax.plot(target.t, target.v, "k", lw=1.5, label="data (RS)")
    ax.plot(fitted.t, fitted.v, "C1--", lw=1.2, label="fit")
    ax.set(xlabel="t (ms)", ylabel="v (mV)", title="Izhikevich: van Rossum fit")
    ax.legend(fontsize=8)
    ax_loss.plot(result.loss_history.T, lw=0.7)
    ax_loss.set(xlabel="step", ylabel="van Rossum D²")
    fig.tight_layout()
    fig.savefig(OUT / "fit_izhikevich.png", dpi=120)
    print(json.dumps({k: summary[k] for k in ("recovered", "target_spike_times_ms",
                                              "fit_spike_times_ms", "wall_time_s")}, indent=2))


if __name__ == "__main__":
    main()
