"""`make demo`: every model × every integrator on embedded defaults, a parity check, a plot."""

import json
import os
import time


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="scjax demo", description=__doc__)
    parser.add_argument("--out", default="experiments/results")
    return run_demo(parser.parse_args(argv).out)


def run_demo(out_dir: str) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)  # the demo is an application: it may set this
    import jax.numpy as jnp
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    import scjax
    from scjax.models import CONDUCTANCE_INTEGRATORS, INTEGRATORS, AbstractConductanceModel

    cases = [
        (scjax.Izhikevich.preset("RS"), 10.0, 0.025, 8000),
        (scjax.HodgkinHuxley(), 10.0, 0.01, 5000),
        (scjax.AdEx(v_peak=-40.4), 800.0, 0.01, 20000),
        (scjax.LIF(), 20.0, 0.1, 2000),
        (scjax.FitzHughNagumo(), 0.5, 0.1, 2000),
        (scjax.MorrisLecar(), 100.0, 0.1, 5000),
    ]
    os.makedirs(out_dir, exist_ok=True)
    fig, axes = plt.subplots(len(cases), 1, figsize=(10, 2.2 * len(cases)))
    summary = {}
    for ax, (model, amp, dt, n) in zip(axes, cases):
        name = type(model).__name__
        current = jnp.full(n, amp)
        summary[name] = {}
        for integrator in INTEGRATORS:
            if (integrator in CONDUCTANCE_INTEGRATORS
                    and not isinstance(model, AbstractConductanceModel)):
                continue  # the model refuses the name (no linear_coefficients)
            m = type(model)(**{**model.params(), "integrator": integrator})
            start = time.perf_counter()
            tr = scjax.simulate(m, current, dt, throw=False)
            tr.y.block_until_ready()
            summary[name][integrator] = {
                "spikes": int(tr.spike_count),
                "diverged": bool(tr.diverged),
                "seconds": time.perf_counter() - start,
            }
            ax.plot(np.asarray(tr.t), np.asarray(tr.v), lw=0.8, label=integrator)
        ax.set_title(f"{name}, I = {amp}, dt = {dt} ms", fontsize=9)
        ax.set_ylabel("v")
        ax.legend(fontsize=6, ncol=5, loc="upper right")
    axes[-1].set_xlabel("t (ms)")
    fig.tight_layout()
    png = os.path.join(out_dir, "demo_traces.png")
    fig.savefig(png, dpi=110)
    print(f"wrote {png}")
    for name, rows in summary.items():
        line = ", ".join(f"{k}: {v['spikes']}{' (diverged)' if v['diverged'] else ''}"
                         for k, v in rows.items())
        print(f"{name:15s} spikes — {line}")
    with open(os.path.join(out_dir, "demo_summary.json"), "w") as f:
        json.dump(summary, f, indent=2)

    # Parity: every available independent backend against the JAX float64 path.
    from scjax import parity

    print("\nparity against the independent backends (scjax parity):")
    return parity.main(["--n-random", "1", "--json", os.path.join(out_dir, "parity.json")])
