"""Cross-language benchmark: JAX (`scjax.simulate`) against the Rust, Go and Mojo libraries.

For each model (Izhikevich, Hodgkin–Huxley, AdEx) and integrator (RK4, which every library
has, and the model's historical default), times on 10 000-step traces, median of 3 repeats:
  - single trace: one `scjax.simulate` call (jit-compiled beforehand; compile time reported
    apart) against one `scjax.backends.native.simulate` call (ctypes + NumPy included);
  - batch (RK4 only): 1 000 neurons with different currents, JAX `scjax.simulate_batch`
    (the state-major batched loop) in one compiled call, against the native library called
    in a Python loop 1 000 times.
Ratios are JAX time / native time (> 1: the native library is faster). Every timed native
trajectory is also compared with JAX's (max normwise relative error, spike trains), and the
1 000-step parity suite of `scjax.parity` runs first.

    .venv/bin/python experiments/bench_neuron_integrators.py            # everything (~minutes)
    .venv/bin/python experiments/bench_neuron_integrators.py --parity-only
    .venv/bin/python experiments/bench_neuron_integrators.py --steps 2000 --batch 100  # quick

Writes experiments/results/bench_neuron_integrators.json (machine, versions, timings, parity).
Timings on a shared machine are noisy: the JSON records the load average before and after.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)  # a script: parity is claimed in float64

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import scjax  # noqa: E402
from scjax import parity  # noqa: E402
from scjax.backends import native  # noqa: E402
from scjax.cli._parity import format_table  # noqa: E402  (the `scjax parity` table)
from scjax.solvers import solver_from_name  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "experiments" / "results" / "bench_neuron_integrators.json"
HISTORICAL = {"izhikevich": "half_euler", "hodgkin_huxley": "euler", "adex": "euler"}


def median_time(fn, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def normwise_rel(y, y_ref) -> float:
    y, y_ref = np.asarray(y), np.asarray(y_ref)
    scale = np.abs(y_ref).max(axis=-2)
    err = np.abs(y - y_ref).max(axis=-2)
    return float(np.max(err / np.where(scale > 0, scale, 1.0)))


def batch_currents(case, n_steps: int, batch: int) -> np.ndarray:
    """`batch` different traces: the shared trace scaled by factors 0.8 … 1.2."""
    base = case.current(n_steps)
    return np.linspace(0.8, 1.2, batch)[:, None] * base[None, :]


def bench_case(name: str, integrator: str, backends, args) -> dict:
    case = parity.CASES[name]
    model = case.model()
    y0 = np.asarray(model.initial_state())
    current = case.current(args.steps)
    solver = solver_from_name(integrator, fast_mask=model.fast_mask)
    cur_j, y0_j = jnp.asarray(current), jnp.asarray(y0)

    def run_jax():
        return scjax.simulate(model, cur_j, case.dt, solver=solver, y0=y0_j).y.block_until_ready()

    start = time.perf_counter()
    y_jax = np.asarray(run_jax())
    compile_s = time.perf_counter() - start
    ref = scjax.simulate(model, cur_j, case.dt, solver=solver, y0=y0_j)
    jax_s, jax_all = median_time(run_jax, args.repeats)
    row = dict(
        model=name,
        integrator=integrator,
        dt=case.dt,
        n_steps=args.steps,
        spikes=int(np.sum(ref.spikes)),
        single=dict(jax=dict(seconds=jax_s, repeats=jax_all, first_call_seconds=compile_s)),
    )
    for b in backends:
        tr = native.simulate(b, model, current, case.dt, integrator=integrator, y0=y0)  # warm
        b_s, b_all = median_time(
            lambda b=b: native.simulate(b, model, current, case.dt, integrator=integrator, y0=y0),
            args.repeats,
        )
        row["single"][b] = dict(
            seconds=b_s,
            repeats=b_all,
            jax_over_native=jax_s / b_s,
            max_rel_vs_jax=normwise_rel(tr.y, y_jax),
            spikes_identical=bool(np.array_equal(tr.spikes, np.asarray(ref.spikes))),
        )
    print(
        f"{name:15s} {integrator:10s} single  jax {jax_s * 1e3:8.2f} ms  "
        + "  ".join(
            f"{b} {row['single'][b]['seconds'] * 1e3:7.2f} ms "
            f"(x{row['single'][b]['jax_over_native']:.1f})"
            for b in backends
        ),
        flush=True,
    )

    if integrator != "rk4" or args.batch <= 0:
        return row
    currents = batch_currents(case, args.steps, args.batch)
    cur_b = jnp.asarray(currents)
    y0_batch = jnp.broadcast_to(y0_j, (args.batch, y0_j.shape[0]))
    batched = jax.jit(
        lambda c: scjax.simulate_batch(model, c, case.dt, solver=solver, y0=y0_batch, throw=False)
    )
    start = time.perf_counter()
    out_jax = batched(cur_b)
    ys_jax = np.asarray(out_jax.y.block_until_ready())
    spikes_jax = np.asarray(out_jax.spikes)
    compile_b = time.perf_counter() - start
    jb_s, jb_all = median_time(lambda: batched(cur_b).y.block_until_ready(), args.repeats)
    row["batch"] = dict(
        size=args.batch, jax=dict(seconds=jb_s, repeats=jb_all, first_call_seconds=compile_b)
    )
    for b in backends:

        def loop(keep=None, b=b):
            for i in range(args.batch):
                tr = native.simulate(b, model, currents[i], case.dt, integrator=integrator, y0=y0)
                if keep is not None:
                    keep.append(tr)

        kept = []
        loop(kept)  # warm, and kept for the accuracy check
        nb_s, nb_all = median_time(loop, args.repeats)
        row["batch"][b] = dict(
            seconds=nb_s,
            repeats=nb_all,
            jax_over_native=jb_s / nb_s,
            max_rel_vs_jax=normwise_rel(np.stack([tr.y for tr in kept]), ys_jax),
            traces_with_different_spikes=int(
                sum(not np.array_equal(tr.spikes, spikes_jax[i]) for i, tr in enumerate(kept))
            ),
        )
    print(
        f"{name:15s} {integrator:10s} batch{args.batch:5d} jax {jb_s:7.3f} s  "
        + "  ".join(
            f"{b} {row['batch'][b]['seconds']:6.3f} s (x{row['batch'][b]['jax_over_native']:.2f})"
            for b in backends
        ),
        flush=True,
    )
    return row


def _version(cmd) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        lines = [
            ln
            for ln in (out.stdout + out.stderr).splitlines()
            if ln.strip() and "crashpad" not in ln.lower()
        ]
        return lines[0].strip() if lines else "unknown"
    except (OSError, subprocess.SubprocessError) as e:
        return f"unavailable ({type(e).__name__})"


def machine_info() -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mojo = ROOT / ".venv" / "bin" / "mojo"
    return dict(
        platform=platform.platform(),
        cpu=cpu,
        cores=os.cpu_count(),
        jax_devices=[str(d) for d in jax.devices()],
        versions=dict(
            python=sys.version.split()[0],
            jax=jax.__version__,
            jaxlib=__import__("jaxlib").__version__,
            numpy=np.__version__,
            scjax=scjax.__version__,
            rustc=_version(["rustc", "--version"]),
            go=_version(["go", "version"]),
            mojo=_version([str(mojo) if mojo.exists() else "mojo", "--version"]),
        ),
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000, help="neurons in the batch (0: skip)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--models", nargs="+", default=list(parity.CASES), choices=list(parity.CASES)
    )
    parser.add_argument(
        "--parity-only",
        action="store_true",
        help="run the parity suite only (keeps the timings already in --out)",
    )
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)

    out = pathlib.Path(args.out)
    previous = json.loads(out.read_text()) if out.exists() else {}
    # --parity-only keeps the timings; every run keeps "other_runs" (results of this script
    # copied in from other machines, e.g. an idle 16-core host, with their own machine info).
    report = previous if args.parity_only else {}
    if "other_runs" in previous:
        report["other_runs"] = previous["other_runs"]
    status = native.available()
    backends = [b for b, s in status.items() if s is True]
    for b, s in status.items():
        if s is not True:
            print(f"{b}: {s}")
    report.update(
        date=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        machine=machine_info(),
        backends={b: (s if s is True else str(s)) for b, s in status.items()},
        load_average_before=list(os.getloadavg()),
    )

    print("parity suite (1 000 steps, defaults + 5 random parameter sets):", flush=True)
    suite = parity.run_parity(models=args.models, backends=backends)
    print(format_table(suite), flush=True)
    report["parity"] = {k: suite[k] for k in ("passed", "n_checked", "n_failed", "backends")}
    report["parity"]["worst_max_rel"] = max(
        (r["max_rel"] for r in suite["rows"] if r.get("available")), default=None
    )

    if not args.parity_only:
        report["settings"] = dict(
            steps=args.steps, batch=args.batch, repeats=args.repeats, statistic="median"
        )
        rows = []
        for name in args.models:
            for integrator in dict.fromkeys(("rk4", HISTORICAL[name])):
                rows.append(bench_case(name, integrator, backends, args))
        report["timings"] = rows
        report["load_average_after"] = list(os.getloadavg())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {out}")
    return 0 if suite["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
