"""Fit AdEx (a, b, τ_w) to the Naud et al. (2008) firing patterns (tonic, adapting, bursting,
irregular) with the van Rossum loss, starting 30 % off, 4 vmapped restarts per pattern.

Settings that make the spike-train loss informative (see tests/test_fit.py, AdEx recovery):
V_peak = V_T + 5Δ_T for data and fit (the last upstroke steps then lie within the width of the
sigmoid surrogate, slope 0.5 /mV), and three sweeps per pattern: the pattern's step current I
after a hyperpolarising (−I) and a depolarising (+I/2) pre-pulse, and two steps separated by a
pause (recovery of w with τ_w).

Writes experiments/results/fit_adex_patterns.json and fit_adex_patterns.png.
Run: .venv/bin/python experiments/fit_adex_patterns.py
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
from scjax.fitting import fit  # noqa: E402
from scjax.models import ADEX_PRESETS  # noqa: E402

OUT = pathlib.Path(__file__).parent / "results"
PATTERNS = ("tonic", "adapting", "bursting", "irregular")
PARAMS = ("a", "b", "tau_w")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    dt, t_ms = 0.1, 300.0
    n = int(round(t_ms / dt))

    def steps(levels):  # (duration ms, amplitude pA) segments
        return np.concatenate([np.full(int(round(d / dt)), amp) for d, amp in levels])

    results = {}
    fig, axes = plt.subplots(len(PATTERNS), 1, figsize=(10, 2.2 * len(PATTERNS)), sharex=True)
    for ax, name in zip(axes, PATTERNS):
        amp = ADEX_PRESETS[name][1]
        v_peak = scjax.AdEx.preset(name).v_t + 5 * scjax.AdEx.preset(name).delta_t
        true = scjax.AdEx.preset(name, v_peak=v_peak)
        sweeps = np.stack(
            [
                steps([(150, -amp), (150, amp)]),
                steps([(150, amp / 2), (150, amp)]),
                steps([(10, 0.0), (100, amp), (100, 0.0), (90, amp)]),
            ]
        )
        targets = [scjax.simulate(true, c, dt) for c in sweeps]
        # 30 % off: a and τ_w up, b down (b = 0 in tonic: start at 1 pA; a scaled keeps its
        # sign).
        guess = scjax.AdEx.preset(
            name, v_peak=v_peak, a=true.a * 1.3, b=true.b * 0.7 + 1.0, tau_w=true.tau_w * 1.3
        )
        result = fit(
            guess,
            current=sweeps,
            dt=dt,
            target=targets,
            params=PARAMS,
            loss="van_rossum",
            tau=10.0,
            surrogate=scjax.SigmoidSurrogate(0.5),
            optimizer=optax.adam(0.02),
            steps=200,
            restarts=4,
            init_spread=0.1,
            key=jax.random.key(0),
        )
        current, target = sweeps[2], targets[2]
        fitted = scjax.simulate(result.model, current, dt)
        fits = [scjax.simulate(result.model, c, dt) for c in sweeps]
        results[name] = {
            "true": {k: float(getattr(true, k)) for k in PARAMS},
            "initial_guess": {k: float(getattr(guess, k)) for k in PARAMS},
            "recovered": result.params,
            "relative_error": {
                k: abs(result.params[k] - getattr(true, k)) / max(abs(getattr(true, k)), 1e-12)
                for k in PARAMS
            },
            "final_loss": result.loss,
            "best_restart": result.best_restart,
            "target_spike_counts": [int(t.spike_count) for t in targets],
            "fit_spike_counts": [int(f.spike_count) for f in fits],
            "max_spike_time_error_ms": (
                max(
                    float(np.max(np.abs(f.spike_times() - t.spike_times()), initial=0.0))
                    for f, t in zip(fits, targets)
                )
                if all(int(f.spike_count) == int(t.spike_count) for f, t in zip(fits, targets))
                else None
            ),
            "wall_time_s": result.wall_time_s,
            "loss_curve": result.loss_history[result.best_restart].tolist(),
        }
        ax.plot(target.t, target.v, "k", lw=1.2, label="data")
        ax.plot(fitted.t, fitted.v, "C1--", lw=1.0, label="fit")
        ax.set(ylabel="V (mV)", title=f"{name}: D² = {result.loss:.3g}")
        print(
            name,
            {k: round(v, 3) for k, v in result.params.items()},
            "true",
            results[name]["true"],
            "loss",
            round(result.loss, 4),
            flush=True,
        )
    axes[0].legend(fontsize=8)
    axes[-1].set_xlabel("t (ms)")
    fig.tight_layout()
    fig.savefig(OUT / "fit_adex_patterns.png", dpi=110)
    (OUT / "fit_adex_patterns.json").write_text(
        json.dumps(
            {
                "model": "AdEx",
                "loss": "van_rossum",
                "tau_ms": 10.0,
                "dt_ms": dt,
                "n_steps": n,
                "sweeps": [
                    "-I pre-pulse 150 ms, I 150 ms",
                    "I/2 pre-pulse 150 ms, I 150 ms",
                    "I 100 ms, pause 100 ms, I 90 ms",
                ],
                "v_peak": "V_T + 5 Delta_T",
                "surrogate": "sigmoid, slope 0.5 /mV",
                "restarts": 4,
                "patterns": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
