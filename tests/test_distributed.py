"""Multi-process runs (`jax.distributed`) and chunked streaming give the single-process
results bit for bit.

Two CPU processes with 2 host devices each join a coordinator on localhost and run a
4-device `simulate_batch` (tests/distributed_worker.py); the test compares their gathered
results with the same batch run here in one process, on one device.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax

from . import distributed_worker as worker

ROOT = Path(__file__).resolve().parents[1]
#: Wall-clock bound on the two worker processes together (they compile HH RK4 once each).
TIMEOUT_S = 120
FIELDS = ("spike_count", "y_final", "diverged")


@pytest.fixture(scope="module")
def reference():
    """The case run in this process on one device, no sharding, no chunking."""
    model, stimulus, kwargs = worker.case()
    trajectory = scjax.simulate_batch(model, stimulus, worker.DT, **kwargs)
    assert not trajectory.spike_count.sharding.device_set - {jax.devices()[0]}
    return worker.result_arrays(trajectory)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """The outputs of 2 worker processes (2 host devices each) joined by jax.distributed."""
    out = tmp_path_factory.mktemp("distributed")
    coordinator = f"127.0.0.1:{_free_port()}"
    env = dict(
        os.environ,
        JAX_PLATFORMS="cpu",
        PYTHONPATH=str(ROOT),
        XLA_FLAGS="--xla_force_host_platform_device_count=2 --xla_cpu_max_isa=AVX",
    )
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "tests" / "distributed_worker.py"),
                coordinator,
                "2",
                str(p),
                str(out / f"{p}.npz"),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for p in range(2)
    ]
    deadline = time.monotonic() + TIMEOUT_S
    logs = []
    try:
        for proc in procs:
            logs.append(proc.communicate(timeout=max(1.0, deadline - time.monotonic()))[0])
    except subprocess.TimeoutExpired:
        for proc in procs:
            proc.kill()
        pytest.fail(f"the worker processes did not finish within {TIMEOUT_S} s")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for p, (proc, log) in enumerate(zip(procs, logs)):
        assert proc.returncode == 0, f"process {p} exited with {proc.returncode}:\n{log[-3000:]}"
    return [dict(np.load(out / f"{p}.npz")) for p in range(2)]


def test_two_processes_see_four_devices_and_hold_disjoint_rows(two_processes):
    for p, out in enumerate(two_processes):
        assert out["n_devices"] == 4 and out["n_local_devices"] == 2
        # Each process integrates only its own half of the batch (2 shards of 4 rows).
        rows = worker.BATCH // 4
        for mode in ("global", "local", "pallas", "pallas_jit"):
            expected = [(2 * p) * rows, (2 * p + 1) * rows]
            np.testing.assert_array_equal(out[f"{mode}_local_rows"], expected)


@pytest.mark.parametrize("mode", worker.MODES)
def test_four_device_run_equals_single_process_bit_for_bit(two_processes, reference, mode):
    assert reference["spike_count"].min() < reference["spike_count"].max()  # spikes differ
    for out in two_processes:
        for field in FIELDS:
            np.testing.assert_array_equal(
                out[f"{mode}_{field}"], reference[field], err_msg=f"{mode} {field}"
            )


def test_chunked_equals_unchunked_bit_for_bit(reference):
    """chunk_size 5 does not divide B = 16 nor the 2 devices: chunks of 6, the last padded."""
    model, stimulus, kwargs = worker.case()
    chunked = scjax.simulate_batch(model, stimulus, worker.DT, chunk_size=5, **kwargs)
    assert isinstance(chunked.spike_count, np.ndarray)
    assert chunked.spike_count.shape == (worker.BATCH,)
    got = worker.result_arrays(chunked)
    for field in FIELDS:
        np.testing.assert_array_equal(got[field], reference[field], err_msg=field)


def test_chunked_dense_current_and_y0_rows():
    """A [B, T] current and a y0 [B, n_state] are split by rows like the parameters."""
    batch, n_steps = 7, 300
    model = scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, batch))
    current = 10.0 + jnp.sin(jnp.arange(n_steps) * 0.05)[None] * jnp.linspace(0, 5, batch)[:, None]
    y0 = jnp.stack([jnp.linspace(-70.0, -60.0, batch), jnp.full(batch, -14.0)], axis=1)
    kwargs = dict(y0=y0, spikes="count", save_every=n_steps)
    whole = scjax.simulate_batch(model, current, 0.5, **kwargs)
    chunked = scjax.simulate_batch(model, current, 0.5, chunk_size=3, **kwargs)
    assert np.asarray(whole.spike_count).min() > 0
    np.testing.assert_array_equal(chunked.spike_count, np.asarray(whole.spike_count))
    np.testing.assert_array_equal(chunked.y, np.asarray(whole.y))


def test_chunk_size_is_checked():
    model = scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, 4))
    with pytest.raises(ValueError, match="chunk_size must be a positive int"):
        scjax.simulate_batch(model, jnp.full(10, 10.0), 0.5, chunk_size=0)
    with pytest.raises(ValueError, match="key: chunk_size with a current array"):
        scjax.simulate_batch(
            model.__class__(a=model.a, noise_std=1.0),
            jnp.full(10, 10.0),
            0.5,
            chunk_size=2,
            key=jax.random.key(0),
        )
