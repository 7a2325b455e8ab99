"""Running one measurement of an experiment in a fresh Python process.

Used by the experiments whose settings are fixed when JAX starts (x64, the number of XLA
host devices): the script calls itself with `--worker <spec as JSON>`, and the worker prints
its result as JSON on its last line.
"""

import json
import os
import subprocess
import sys

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
