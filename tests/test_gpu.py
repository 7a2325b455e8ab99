"""GPU checks: skipped here with the exact reason when no CUDA device is present."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax


def _gpus():
    try:
        return jax.devices("gpu")
    except RuntimeError:
        return []


pytestmark = pytest.mark.skipif(
    not _gpus(), reason="no GPU: jax.devices('gpu') is empty (needs jax[cuda] on a CUDA machine)"
)


def test_gpu_float64_matches_cpu():
    current = jnp.full(2000, 10.0)
    model = scjax.HodgkinHuxley(integrator="rk4")
    with jax.default_device(jax.devices("cpu")[0]):
        cpu = np.asarray(scjax.simulate(model, current, 0.01).y)
    with jax.default_device(_gpus()[0]):
        gpu = scjax.simulate(model, current, 0.01)
        assert next(iter(gpu.y.devices())).platform == "gpu"
        gpu_y = np.asarray(gpu.y)
    # Different exp/expm1 implementations: agreement to rounding, amplified by the dynamics.
    np.testing.assert_allclose(gpu_y, cpu, rtol=1e-9, atol=1e-8)


def test_gpu_batch_spike_counts_match_cpu():
    current = jnp.full(5000, 10.0)
    a = jnp.linspace(0.01, 0.1, 256)
    run = jax.jit(
        jax.vmap(lambda a: scjax.simulate(scjax.Izhikevich(a=a), current, 0.1).spikes.sum())
    )
    with jax.default_device(jax.devices("cpu")[0]):
        cpu = np.asarray(run(a))
    with jax.default_device(_gpus()[0]):
        gpu = np.asarray(run(jax.device_put(a, _gpus()[0])))
    np.testing.assert_array_equal(gpu, cpu)
