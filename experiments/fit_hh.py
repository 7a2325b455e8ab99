"""Fit Hodgkin–Huxley conductances (g_Na, g_K, g_L) to a synthetic voltage trace, and measure
the memory of reverse-mode gradients over long traces.

Writes experiments/results/fit_hh.json and fit_hh.png.
Run: .venv/bin/python experiments/fit_hh.py
"""

import json
import pathlib
import resource
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import scjax  # noqa: E402
from scjax import losses  # noqa: E402
from scjax.fitting import fit  # noqa: E402

OUT = pathlib.Path(__file__).parent / "results"
TRUE = {"g_na": 120.0, "g_k": 36.0, "g_l": 0.3}


def gradient_memory(n_steps: int, dt: float = 0.01) -> dict:
    """Compiled memory of jax.grad(trace_mse ∘ simulate) for an HH trace of n_steps."""
    current = jnp.full(n_steps, 10.0)
    target = scjax.simulate(scjax.HodgkinHuxley(), current, dt).v

    def loss(g):
        m = scjax.HodgkinHuxley(g_na=g[0], g_k=g[1], g_l=g[2])
        return losses.trace_mse(scjax.simulate(m, current, dt), target)

    g0 = jnp.array([100.0, 40.0, 0.35])
    compiled = jax.jit(jax.grad(loss)).lower(g0).compile()
    mem = compiled.memory_analysis()
    t = time.perf_counter()
    jax.block_until_ready(compiled(g0))
    run_s = time.perf_counter() - t
    return {
        "n_steps": n_steps,
        "temp_bytes": int(mem.temp_size_in_bytes),
        "argument_bytes": int(mem.argument_size_in_bytes),
        "output_bytes": int(mem.output_size_in_bytes),
        "bytes_per_step": mem.temp_size_in_bytes / n_steps,
        "grad_wall_s": run_s,
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    dt = 0.05
    n = int(round(40.0 / dt))
    current = np.where(np.arange(n) * dt > 2.0, 10.0, 0.0)
    target = scjax.simulate(scjax.HodgkinHuxley(), current, dt)
    guess = scjax.HodgkinHuxley(g_na=120.0 * 0.7, g_k=36.0 * 1.3, g_l=0.3 * 1.3)
    result = fit(
        guess,
        current=current,
        dt=dt,
        target=target,
        params=tuple(TRUE),
        loss="trace_mse",
        optimizer=[(optax.adam(0.1), 150), (optax.lbfgs(), 25)],
        restarts=4,
        key=jax.random.key(0),
        init_spread=0.1,
    )
    fitted = scjax.simulate(result.model, current, dt)

    memory = [gradient_memory(n) for n in (10_000, 100_000)]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    summary = {
        "model": "HodgkinHuxley",
        "loss": "trace_mse",
        "dt_ms": dt,
        "n_steps": n,
        "true": TRUE,
        "initial_guess": {k: float(getattr(guess, k)) for k in TRUE},
        "recovered": result.params,
        "relative_error": {k: abs(result.params[k] - v) / v for k, v in TRUE.items()},
        "final_loss": result.loss,
        "best_restart": result.best_restart,
        "wall_time_s": result.wall_time_s,
        "loss_curve": np.asarray(result.loss_history[result.best_restart]).tolist(),
        "gradient_memory": memory,
        "process_peak_rss_mb": rss_mb,
    }
    (OUT / "fit_hh.json").write_text(json.dumps(summary, indent=2))

    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(11, 3.5), width_ratios=(3, 1))
    ax.plot(target.t, target.v, "k", lw=2, label="data (g_Na 120, g_K 36, g_L 0.3)")
    ax.plot(
        scjax.simulate(guess, current, dt).t,
        scjax.simulate(guess, current, dt).v,
        "C0",
        lw=1,
        alpha=0.6,
        label="initial guess (30 % off)",
    )
    ax.plot(fitted.t, fitted.v, "C1--", lw=1.5, label="fit")
    ax.set(xlabel="t (ms)", ylabel="V (mV)", title="Hodgkin–Huxley: trace MSE fit")
    ax.legend(fontsize=8)
    ax_loss.semilogy(np.maximum(result.loss_history.T, 1e-30), lw=0.8)
    ax_loss.set(xlabel="step (Adam 150, then L-BFGS)", ylabel="trace MSE (mV²)")
    fig.tight_layout()
    fig.savefig(OUT / "fit_hh.png", dpi=120)
    print(
        json.dumps(
            {
                k: summary[k]
                for k in (
                    "recovered",
                    "relative_error",
                    "wall_time_s",
                    "gradient_memory",
                    "process_peak_rss_mb",
                )
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
