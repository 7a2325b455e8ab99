"""`scjax demo` (`make demo`): every model × every integrator on embedded defaults, a plot of
the traces, a spike summary, and a parity check against every available independent backend.

Writes demo_traces.png, demo_summary.json and parity.json into `--out`. Exit status 1 when an
available backend disagrees with JAX (a demo on a machine without any built backend passes,
saying that nothing was compared).
"""

import os
import time

from ._common import import_pyplot, json_safe, staged_outputs, write_json

HELP = "simulate every model with every integrator, check parity, plot"
X64 = True

#: (model class name, its options, constant current, dt ms, steps): the demo's cases
CASES: tuple[tuple[str, dict, float, float, int], ...] = (
    ("Izhikevich", {"preset": "RS"}, 10.0, 0.025, 8000),
    ("HodgkinHuxley", {}, 10.0, 0.01, 5000),
    ("AdEx", {"v_peak": -40.4}, 800.0, 0.01, 20000),
    ("LIF", {}, 20.0, 0.1, 2000),
    ("FitzHughNagumo", {}, 0.5, 0.1, 2000),
    ("MorrisLecar", {}, 100.0, 0.1, 5000),
)


def configure(parser) -> None:
    parser.add_argument("--out", default="experiments/results", help="output folder")
    parser.add_argument(
        "--parity-random",
        type=int,
        default=1,
        help="random parameter sets per model in the parity check (>= 0)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: each model's default integrator only; parity of the euler cases only",
    )


def _model(name: str, options: dict):
    from scjax.models import MODELS

    cls = MODELS[name]
    options = dict(options)
    preset = options.pop("preset", None)
    return cls.preset(preset, **options) if preset else cls(**options)


def run(args) -> int:
    import jax.numpy as jnp
    import numpy as np

    import scjax
    from scjax import parity
    from scjax.models import CONDUCTANCE_INTEGRATORS, INTEGRATORS, AbstractConductanceModel

    from ._parity import format_table

    plt = import_pyplot("scjax demo")
    fig, axes = plt.subplots(len(CASES), 1, figsize=(10, 2.2 * len(CASES)), squeeze=False)
    axes = axes[:, 0]
    summary = {}
    for ax, (name, options, amp, dt, n) in zip(axes, CASES):
        model = _model(name, options)
        current = jnp.full(n, amp)
        summary[name] = {}
        for integrator in (model.integrator,) if args.quick else INTEGRATORS:
            if integrator in CONDUCTANCE_INTEGRATORS and not isinstance(
                model, AbstractConductanceModel
            ):
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
        ax.set_ylabel(model.state_names[0])
        ax.legend(fontsize=6, ncol=5, loc="upper right")
    axes[-1].set_xlabel("t (ms)")
    fig.tight_layout()
    png = os.path.join(args.out, "demo_traces.png")
    with staged_outputs() as staged:
        staged.savefig(fig, png, dpi=110)
        staged.write_json(os.path.join(args.out, "demo_summary.json"), summary)
    plt.close(fig)
    print(f"wrote {png}")
    for name, rows in summary.items():
        line = ", ".join(
            f"{k}: {v['spikes']}{' (diverged)' if v['diverged'] else ''}" for k, v in rows.items()
        )
        print(f"{name:15s} spikes — {line}")

    print("\nparity against the independent backends (scjax parity):")
    report = parity.run_parity(
        n_random=args.parity_random, integrators=("euler",) if args.quick else None
    )
    print(format_table(report))
    parity_json = os.path.join(args.out, "parity.json")
    write_json(parity_json, json_safe(report), indent=1)
    print(f"wrote {parity_json}")
    if report["n_checked"] == 0:
        print(
            "nothing was compared: no independent backend is available ("
            + "; ".join(f"{b}: {s}" for b, s in report["backends"].items())
            + ")"
        )
        return 0
    return 0 if report["passed"] else 1
