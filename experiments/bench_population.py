"""The population race of issue 9: N independent neurons, each with its own constant current
I_i = 5 + 10 i/N, spike counts only, every contender in one interleaved run.

    python experiments/bench_population.py            # N = 1e3, 1e4, 1e5; 10 000 steps; 3 repeats
    python experiments/bench_population.py --quick    # N = 1e3, 1e4; 2 000 steps; 3 repeats
    python experiments/bench_population.py --sizes 1000 10000 --models hh --dtypes float64

Workloads: classic Hodgkin-Huxley with classic RK4 at dt = 0.01 ms (spike = upward crossing of
0 mV), and Izhikevich (2003) RS (v by two dt/2 Euler half steps, then u with the new v; reset
v >= 30 -> v = c, u += d) at dt = 0.5 ms; float64 and float32.

Contenders, each repeat run once per workload in its own subprocess (so `os.wait4` gives that
contender's peak RSS), in an order rotated every repeat:
  scjax        `scjax.simulate_batch`, counts only (`run_scjax` in bench_population/jax_worker.py)
  scjax_sharded
               the same with one XLA CPU device per core (XLA_FLAGS
               --xla_force_host_platform_device_count=<cores>, set for that subprocess only)
               and the stimulus's amplitudes placed with `scjax.shard_batch`: each device runs
               its half of the batch on its own core (docs/guides/scale.md)
  scjax_exponential_euler
               HH only: the same with `HodgkinHuxley(integrator="exponential_euler")`, the
               scheme of BrainPy's exp_auto (compared with brainpy_exp_auto at equal dt, dtype)
  scjax_sharded_exponential_euler
               HH only: scjax_exponential_euler, sharded as scjax_sharded
  scjax_sharded_polynomial_expm1, scjax_sharded_exponential_euler_polynomial_expm1
               HH only: the sharded contenders with `simulate_batch(expm1="polynomial")`
               (HH's alpha_m and alpha_n through scjax's polynomial expm1, not XLA's)
  scjax_sharded_blocked
               scjax_sharded with `simulate_batch(loop="blocked")`: each device's neurons in
               cache-sized blocks of at most 8192, each block through every step in turn
               (the XLA loop itself where a device holds fewer); HH also
               scjax_sharded_blocked_exponential_euler_polynomial_expm1
  plain_jax    a `jax.lax.scan` of the same recurrence on separate [N] vectors, count in carry
  c_*          bench_population/population.c, built here with gcc -O3 -march=native, strict
               IEEE (-ffp-contract=off) or -ffast-math, on 1 or 2 OpenMP threads
  brian2       Brian2 cpp_standalone, installed into experiments/.venvs/brian2 (Brian's
               defaults: no OpenMP, one core; g++ -O3 -ffast-math -fno-finite-math-only
               -march=native, prefs.codegen.cpp.extra_compile_args_gcc)
  brian2_2t    the same on 2 OpenMP threads (prefs.devices.cpp_standalone.openmp_threads):
               the peer on as many cores as scjax_sharded
  brainpy_*    BrainPy DSRunner (HH: rk4 and exp_auto; Izhikevich: the 2003 scheme), installed
               into experiments/.venvs/brainpy
A contender that cannot be installed or run is recorded with its reason.

Throughput is measured with XLA's default flags (XLA_FLAGS unset in the JAX subprocesses); scjax
compiles its loop with its own per-program option (`scjax.simulation._loop.CPU_COMPILER_OPTIONS`,
xla_cpu_prefer_vector_width=512), plain_jax with none. The default flags
let XLA contract multiply-adds into FMA, so JAX's float64 results are not bit-identical to the
strict C build; a separate untimed "parity" pass reruns scjax and plain_jax in float64 under
XLA_FLAGS=--xla_cpu_max_isa=AVX (no FMA) and compares their per-neuron counts with C float64.
Agreement is always judged against the strict C float64 build at the same N: HH counts must be
identical per neuron; Izhikevich at dt = 0.5 ms is chaotic, so totals within 1e-4 relative.
The exponential-Euler contenders (scjax_[sharded_]exponential_euler, brainpy_exp_auto)
integrate another scheme than C's RK4: their counts are reported against each other (same dt
and dtype) as "agreement_vs_brainpy_exp_auto", and against C only for information.

Writes experiments/results/bench_population.json (or --out) after every repeat.
"""

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SOURCES = os.path.join(HERE, "bench_population")
VENVS = os.path.join(HERE, ".venvs")
DT = {"hh": 0.01, "izh": 0.5}
PARITY_XLA_FLAGS = "--xla_cpu_max_isa=AVX"
# Each contender's venv: the pip requirements (Brian2 2.9 uses ndarray.ptp, gone in numpy 2.3).
VENV_REQUIREMENTS = {"brian2": ["brian2", "numpy<2.3"], "brainpy": ["brainpy[cpu]"]}
C_FLAGS = {
    "strict": ["-O3", "-march=native", "-ffp-contract=off", "-fopenmp"],
    "fast": ["-O3", "-march=native", "-ffast-math", "-fopenmp"],
}


def machine_info() -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_start": os.getloadavg(),
    }
    for package in ("jax", "jaxlib", "diffrax", "equinox"):
        try:
            info[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            info[package] = None
    info["gcc"] = (
        subprocess.run(
            ["gcc", "--version"], check=False, capture_output=True, text=True
        ).stdout.splitlines()[0]
        if shutil.which("gcc")
        else None
    )
    return info


def ensure_venv(name: str) -> tuple[str | None, str | None, float]:
    """The venv's python (created and pip-installed on first use, reused while its stamp
    matches the requirements), or None and the reason; and the seconds spent installing."""
    requirements = VENV_REQUIREMENTS[name]
    venv = os.path.join(VENVS, name)
    python = os.path.join(venv, "bin", "python")
    stamp = os.path.join(venv, ".installed")
    wanted = " ".join(requirements)
    if os.path.exists(stamp) and os.path.exists(python):
        with open(stamp) as f:
            if f.read().strip() == wanted:
                return python, None, 0.0
    start = time.perf_counter()
    try:
        if not os.path.exists(python):
            subprocess.run(
                [
                    sys.executable if shutil.which("python3") is None else "python3",
                    "-m",
                    "venv",
                    venv,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", *requirements],
            check=True,
            capture_output=True,
            text=True,
            timeout=1800,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        tail = getattr(error, "stderr", "") or ""
        return None, f"install failed: {error}; {str(tail)[-800:]}", time.perf_counter() - start
    with open(stamp, "w") as f:
        f.write(wanted)
    return python, None, time.perf_counter() - start


def build_c(build_dir: str) -> dict:
    """gcc builds of population.c: {(flavour, dtype): (binary or None, info)}."""
    builds = {}
    source = os.path.join(SOURCES, "population.c")
    for flavour, flags in C_FLAGS.items():
        for dtype, real in (("float64", "double"), ("float32", "float")):
            binary = os.path.join(build_dir, f"population_{flavour}_{dtype}")
            command = ["gcc", *flags, f"-DREAL={real}", source, "-o", binary, "-lm"]
            start = time.perf_counter()
            done = subprocess.run(command, check=False, capture_output=True, text=True)
            info = {
                "command": " ".join(command[:-4] + ["population.c", "-o", "BIN", "-lm"]),
                "compile_s": time.perf_counter() - start,
            }
            if done.returncode != 0:
                info["error"] = done.stderr[-800:]
                binary = None
            builds[flavour, dtype] = (binary, info)
    return builds


def run_child(command: list[str], env: dict, timeout: float) -> tuple[int, str, str, float, float]:
    """Run one contender; returns (status, stdout, stderr, wall seconds, peak RSS in MiB of
    the child and its descendants, from its own rusage)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=ROOT)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
                pid, status, usage = os.wait4(child.pid, 0)
                status = -9
                break
            time.sleep(0.01)
        child.returncode = status
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        code = os.waitstatus_to_exitcode(status) if status != -9 else -9
        return code, out.read(), err.read(), wall, usage.ru_maxrss / 1024.0


#: The scjax contenders, each reported as ratios to every other contender.
EXPONENTIAL_EULER_CONTENDERS = (
    "scjax_exponential_euler",
    "scjax_sharded_exponential_euler",
    "scjax_sharded_exponential_euler_polynomial_expm1",
    "scjax_sharded_blocked_exponential_euler_polynomial_expm1",
)
SCJAX_CONTENDERS = (
    "scjax",
    "scjax_sharded",
    "scjax_sharded_blocked",
    "scjax_sharded_polynomial_expm1",
    *EXPONENTIAL_EULER_CONTENDERS,
)


def contender_names(model: str) -> list[str]:
    brainpy = ["brainpy_rk4", "brainpy_exp_auto"] if model == "hh" else ["brainpy_izh2003"]
    return [
        "scjax",
        "scjax_sharded",
        "scjax_sharded_blocked",
        # HH only: Izhikevich has no expm1 and no gating variables.
        *(
            ("scjax_sharded_polynomial_expm1", *EXPONENTIAL_EULER_CONTENDERS)
            if model == "hh"
            else ()
        ),
        "plain_jax",
        "c_strict_1t",
        "c_strict_2t",
        "c_fast_1t",
        "c_fast_2t",
        "brian2",
        "brian2_2t",
        *brainpy,
    ]


def command_for(name, model, dtype, n, steps, counts_out, ctx):
    """(argv, env) for one run of contender `name`, or a string: why it cannot run."""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    spec = {"model": model, "dtype": dtype, "n": n, "steps": steps, "counts_out": counts_out}
    jax_contenders = (*SCJAX_CONTENDERS, "plain_jax")
    if name in jax_contenders or name in ("scjax_parity", "plain_jax_parity"):
        if name.startswith("scjax") and not ctx["scjax_has_stimulus"] and n > ctx["dense_limit"]:
            return "dense [N,T] current too large (scjax has no stimulus API yet)"
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        if name.endswith("_parity"):
            env["XLA_FLAGS"] = PARITY_XLA_FLAGS
        if name.startswith("scjax_sharded"):  # one XLA CPU device per core (docs/guides/scale.md)
            env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={os.cpu_count()}"
        spec["contender"] = name.removesuffix("_parity")
        return [sys.executable, os.path.join(SOURCES, "jax_worker.py"), json.dumps(spec)], env
    if name.startswith("c_"):
        _, flavour, threads = name.split("_")
        binary, info = ctx["c_builds"][flavour, dtype]
        if binary is None:
            return f"gcc failed: {info.get('error')}"
        return [binary, model, str(n), str(steps), threads.removesuffix("t"), counts_out], env
    venv = "brian2" if name.startswith("brian2") else "brainpy"
    python, reason = ctx["venvs"][venv]
    if python is None:
        return reason
    if name.startswith("brian2"):
        spec["build_dir"] = os.path.join(ctx["build_dir"], f"{name}_{model}_{dtype}_{n}")
        spec["threads"] = 2 if name == "brian2_2t" else 0
        script = "brian2_worker.py"
    else:
        spec["method"] = name.removeprefix("brainpy_")
        script = "brainpy_worker.py"
    env.pop("PYTHONPATH", None)
    return [python, os.path.join(SOURCES, script), json.dumps(spec)], env


def one_run(name, model, dtype, n, steps, ctx) -> dict:
    counts_out = os.path.join(ctx["build_dir"], f"counts_{name}_{model}_{dtype}_{n}.npy")
    prepared = command_for(name, model, dtype, n, steps, counts_out, ctx)
    if isinstance(prepared, str):
        return {"status": "unavailable", "reason": prepared}
    command, env = prepared
    load = os.getloadavg()[0]  # the box is shared: say how busy it was
    code, out, err, wall, rss = run_child(command, env, ctx["timeout"])
    if code != 0:
        return {"status": "failed", "reason": f"exit {code}: {(err or out)[-1200:]}"}
    if name.startswith("c_"):
        seconds = float(out.split()[-1])
        counts = np.fromfile(counts_out, np.int32).astype(np.int64)
        _, info = ctx["c_builds"][name.split("_")[1], dtype]
        result = {
            "setup_s": info["compile_s"],
            "run_s": seconds,
            "path": f"{info['command']} ; OMP threads {name[-2]}",
        }
    else:
        result = json.loads(out.strip().splitlines()[-1])
        counts = np.load(counts_out)
    os.remove(counts_out)
    result.update(
        status="ok",
        wall_s=wall,
        load_average_1min=load,
        peak_rss_mib=rss,
        counts=counts,
        neuron_steps_per_s=n * steps / result["run_s"],
    )
    return result


def agreement(
    model: str, counts: np.ndarray, reference: np.ndarray, reference_name: str = "c_strict f64"
) -> dict:
    total, ref_total = int(counts.sum()), int(reference.sum())
    relative = abs(total - ref_total) / max(ref_total, 1)
    mismatched = int(np.sum(counts != reference))
    out = {
        "reference": reference_name,
        "spike_total": total,
        "reference_total": ref_total,
        "total_relative_difference": relative,
        "neurons_differing": mismatched,
        "max_abs_count_difference": int(np.max(np.abs(counts - reference))),
    }
    if model == "hh":
        out["criterion"] = "identical per-neuron counts"
        out["pass"] = mismatched == 0
    else:
        out["criterion"] = "spike totals within 1e-4 relative (chaotic at dt 0.5 ms)"
        out["pass"] = relative <= 1e-4
    return out


def summarise(entry: dict) -> None:
    runs = entry["runs"]
    ok = [r for r in runs if r["status"] == "ok"]
    entry["status"] = "ok" if ok else runs[-1]["status"]
    if not ok:
        entry["reason"] = runs[-1].get("reason")
        return
    rates = [r["neuron_steps_per_s"] for r in ok]
    entry.update(
        neuron_steps_per_s_median=float(np.median(rates)),
        neuron_steps_per_s_all=rates,
        setup_s_median=float(np.median([r["setup_s"] for r in ok])),
        setup_s_all=[r["setup_s"] for r in ok],
        peak_rss_mib_median=float(np.median([r["peak_rss_mib"] for r in ok])),
        peak_rss_mib_all=[r["peak_rss_mib"] for r in ok],
        spike_totals=[r["spike_total"] for r in ok],
        path=ok[-1].get("path"),
    )
    if len(ok) < len(runs):
        entry["failed_runs"] = [r.get("reason") for r in runs if r["status"] != "ok"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="N = 1e3 and 1e4, 2 000 steps, 3 repeats (development)"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", nargs="+", choices=["hh", "izh"], default=["hh", "izh"])
    parser.add_argument(
        "--dtypes", nargs="+", choices=["float64", "float32"], default=["float64", "float32"]
    )
    parser.add_argument(
        "--contenders", nargs="+", default=None, help="subset of contender names (default: all)"
    )
    parser.add_argument(
        "--no-parity",
        action="store_true",
        help="skip the untimed no-FMA parity pass of the JAX contenders",
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per subprocess")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    sizes = args.sizes or ([1000, 10000] if args.quick else [1000, 10000, 100000])
    steps = args.steps or (2000 if args.quick else 10000)
    out_path = args.out or os.path.join(
        HERE, "results", "bench_population_quick.json" if args.quick else "bench_population.json"
    )
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    started = time.perf_counter()

    build_dir = tempfile.mkdtemp(prefix="bench_population_")
    ctx = {"build_dir": build_dir, "timeout": args.timeout, "dense_limit": 10000}
    ctx["c_builds"] = build_c(build_dir)

    def wanted(name):
        return args.contenders is None or name in args.contenders

    ctx["venvs"], install_s = {}, {}
    for venv in VENV_REQUIREMENTS:
        if any(wanted(c) for m in args.models for c in contender_names(m) if c.startswith(venv)):
            python, reason, seconds = ensure_venv(venv)
            ctx["venvs"][venv] = (python, reason)
            install_s[venv] = seconds
    probe_code = "import scjax; print(hasattr(scjax, 'stimulus'))"
    probe = subprocess.run(
        [sys.executable, "-c", probe_code],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    ctx["scjax_has_stimulus"] = probe.stdout.strip() == "True"

    workloads = [(m, d, n) for n in sizes for m in args.models for d in args.dtypes]
    results = {
        f"{m}/{d}/N={n}": {
            "model": m,
            "dtype": d,
            "n": n,
            "steps": steps,
            "dt_ms": DT[m],
            "contenders": {c: {"runs": []} for c in contender_names(m) if wanted(c)},
        }
        for m, d, n in workloads
    }
    references = {}  # (model, n) -> C strict float64 counts, the agreement reference
    document = {
        "benchmark": "experiments/bench_population.py (issue 9, item 6)",
        "command": " ".join([os.path.basename(sys.executable), *sys.argv]),
        "workloads": "HH classic RK4 dt 0.01 ms (spike: upward crossing of 0 mV); Izhikevich "
        "2003 RS half-step scheme dt 0.5 ms; I_i = 5 + 10 i/N; counts only",
        "timing": "one run per contender per repeat, each in its own subprocess, order rotated "
        "each repeat; run_s excludes setup (JAX: ahead-of-time lower+compile; C: gcc; "
        "Brian2: codegen+compile; BrainPy: first DSRunner.run minus the timed second)",
        "xla_flags_throughput": "default (XLA_FLAGS unset in the JAX subprocesses); scjax's "
        "loop compiles with its per-program option xla_cpu_prefer_vector_width=512",
        "xla_flags_parity_pass": PARITY_XLA_FLAGS,
        "peak_rss": "os.wait4 rusage of the contender's subprocess (includes its children)",
        "scjax_api_path": None,
        "machine": machine_info(),
        "venv_install_s": install_s,
        "c_builds": {f"{f}/{d}": info for (f, d), (_, info) in ctx["c_builds"].items()},
        "results": results,
    }

    def write():
        document["elapsed_s"] = time.perf_counter() - started
        done = document.get("repeats_completed", 0)
        document["status"] = (
            f"{'complete' if done == args.repeats else 'PARTIAL'}: {done} of {args.repeats} "
            "repeats of every workload; the box is shared, see load_average_1min of each run"
        )
        document["machine"]["load_average_end"] = os.getloadavg()
        with open(out_path, "w") as f:
            json.dump(document, f, indent=1, default=float)

    def ratios():
        for entry in results.values():
            contenders = entry["contenders"]
            for name in SCJAX_CONTENDERS:
                rate = contenders.get(name, {}).get("neuron_steps_per_s_median")
                if rate:
                    entry[f"ratio_{name}_over"] = {
                        c: rate / v["neuron_steps_per_s_median"]
                        for c, v in contenders.items()
                        if c != name and v.get("neuron_steps_per_s_median")
                    }
            rss = contenders.get("scjax", {}).get("peak_rss_mib_median")
            if rss and contenders.get("plain_jax", {}).get("peak_rss_mib_median"):
                entry["peak_rss_scjax_over_plain_jax"] = (
                    rss / contenders["plain_jax"]["peak_rss_mib_median"]
                )

    parity = document["parity_no_fma"] = {}

    def parity_pass(m, n):
        if True:
            for name in ("scjax_parity", "plain_jax_parity"):
                if not wanted(name.removesuffix("_parity")):
                    continue
                run = one_run(name, m, "float64", n, steps, ctx)
                if run["status"] == "ok":
                    counts = run.pop("counts")
                    run["spike_total"] = int(counts.sum())
                    if references[m, n] is not None:
                        run["agreement"] = agreement(m, counts, references[m, n])
                        run["bit_identical_counts"] = bool(np.array_equal(counts, references[m, n]))
                parity[f"{m}/float64/N={n}/{name.removesuffix('_parity')}"] = run
                print(
                    f"[parity] {m} N={n} {name}: {run.get('agreement', run.get('reason'))}",
                    flush=True,
                )

    for repeat in range(args.repeats):
        for m, d, n in workloads:
            names = list(results[f"{m}/{d}/N={n}"]["contenders"])
            if (m, n) not in references:  # the reference runs first, untimed if not a contender
                ref = one_run("c_strict_1t", m, "float64", n, steps, ctx)
                references[m, n] = ref.get("counts")
            shift = repeat % len(names)
            last_counts = {}  # this repeat's per-neuron counts, by contender
            for name in names[shift:] + names[:shift]:
                run = one_run(name, m, d, n, steps, ctx)
                entry = results[f"{m}/{d}/N={n}"]["contenders"][name]
                if run["status"] == "ok":
                    counts = run.pop("counts")
                    run["spike_total"] = int(counts.sum())
                    if references[m, n] is not None:
                        entry["agreement"] = agreement(m, counts, references[m, n])
                    if name == "scjax":
                        document["scjax_api_path"] = run.get("path")
                    last_counts[name] = counts
                entry["runs"].append(run)
                summarise(entry)
                print(
                    f"[{repeat + 1}/{args.repeats}] {m} {d} N={n} {name:17s} "
                    + (
                        f"{run['neuron_steps_per_s'] / 1e6:9.2f} M neuron-steps/s  "
                        f"setup {run['setup_s']:6.2f} s  RSS {run['peak_rss_mib']:7.1f} MiB  "
                        f"spikes {run['spike_total']}"
                        if run["status"] == "ok"
                        else f"{run['status']}: {run['reason'][:200]}"
                    ),
                    flush=True,
                )
            for name in EXPONENTIAL_EULER_CONTENDERS:
                if name in last_counts and "brainpy_exp_auto" in last_counts:
                    # The same scheme at the same dt and dtype: the reference to agree with.
                    results[f"{m}/{d}/N={n}"]["contenders"][name][
                        "agreement_vs_brainpy_exp_auto"
                    ] = agreement(
                        m,
                        last_counts[name],
                        last_counts["brainpy_exp_auto"],
                        f"brainpy_exp_auto {d}",
                    )
            ratios()
            write()  # after every workload: an interrupted run keeps what it measured
            if repeat == 0 and d == "float64" and not args.no_parity:
                parity_pass(m, n)  # early, so an interrupted run still has it
                write()
        document["repeats_completed"] = repeat + 1

    write()
    shutil.rmtree(build_dir, ignore_errors=True)
    print(f"wrote {out_path} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
