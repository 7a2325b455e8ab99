"""Running one measurement of an experiment in a fresh Python process.

Used by the experiments whose settings are fixed when JAX starts (x64, the number of XLA
host devices): the script calls itself with `--worker <spec as JSON>`, and the worker prints
its result as JSON on its last line.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_worker(script: str, spec: dict, devices: int = 1) -> dict:
    """`python script --worker spec` with this checkout on PYTHONPATH and `devices` XLA host
    devices: the worker's JSON result, or `{"status": "failed", "reason": …}`."""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    if devices > 1:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    done = subprocess.run(
        [sys.executable, script, "--worker", json.dumps(spec)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return {"status": "failed", "reason": done.stderr[-1500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def experiment_arguments(doc: str, out_name: str) -> argparse.ArgumentParser:
    """The parser of such an experiment: its docstring as help, the hidden `--worker` and
    `--out` (default experiments/results/<out_name>); the caller adds its own options."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=os.path.join(ROOT, "experiments", "results", out_name))
    return parser


def answered_as_worker(args, worker) -> bool:
    """In a worker process (`--worker spec`): print `worker(spec)` as JSON and say so."""
    if args.worker is None:
        return False
    print(json.dumps(worker(json.loads(args.worker))))
    return True


def new_document(benchmark: str, **fields) -> dict:
    """The JSON record of a run: what ran, the fields given, the machine and its load."""
    machine = {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_start": os.getloadavg(),
    }
    command = " ".join(["python", *sys.argv])
    return {"benchmark": benchmark, "command": command, **fields, "machine": machine, "results": {}}


def save_document(document: dict, path: str) -> None:
    """Write the record (after each measurement: a run cut short keeps what it measured)."""
    document["machine"]["load_average_end"] = os.getloadavg()
    with open(path, "w") as f:
        json.dump(document, f, indent=1)


def interleaved_seconds(calls: dict[str, Callable[[], object]], repeats: int) -> dict:
    """Wall seconds of each call (which must block until its result is ready), `repeats`
    rounds, the order rotated by one each round (two contenders alternate), so drifts of a
    shared machine's load fall on every contender alike."""
    names = list(calls)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            calls[name]()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def compiled_for_cpu(fn, *args):
    """`fn` compiled for `args` with the XLA loop's own CPU options (`_loop.CPU_COMPILER_OPTIONS`),
    so a timed round runs no tracing or compilation."""
    import jax

    from scjax.simulation._loop import CPU_COMPILER_OPTIONS

    return jax.jit(fn, compiler_options=CPU_COMPILER_OPTIONS).lower(*args).compile()


def outputs_and_rates(programs: dict, args: tuple, repeats: int, neuron_steps: int):
    """Each compiled program's outputs on `args` (as NumPy arrays), then `rates` of its
    `interleaved_seconds` over `repeats` rounds."""
    import jax
    import numpy as np

    def call(program):
        return jax.block_until_ready(program(*args))

    outputs = {name: jax.tree.map(np.asarray, call(p)) for name, p in programs.items()}
    calls = {name: lambda p=p: call(p) for name, p in programs.items()}
    return outputs, rates(interleaved_seconds(calls, repeats), neuron_steps)


def print_rates(label: str, entry: dict, *fields: str, variants: str = "variants") -> None:
    """One line of progress: the median rates of `entry[variants]` in M neuron-steps/s, then
    the entry's `fields`."""
    millions = {
        k: round(v["neuron_steps_per_s_median"] / 1e6, 2)
        for k, v in entry.get(variants, {}).items()
    }
    print(label, millions, *(entry.get(f) for f in fields), flush=True)


def rates(seconds: dict, neuron_steps: int) -> dict:
    """Per contender: the median rate in neuron-steps/s and every round's seconds."""
    return {
        name: {
            "neuron_steps_per_s_median": neuron_steps / statistics.median(times),
            "seconds_all": times,
        }
        for name, times in seconds.items()
    }
