"""Batches split over devices give the same trajectories as one device."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax


def _batched_run(g_na, current):
    return jax.vmap(
        lambda g: scjax.simulate(scjax.HodgkinHuxley(g_na=g, integrator="rk4"), current, 0.02).y
    )(g_na)


def test_sharded_batch_equals_unsharded():
    devices = jax.devices()
    if len(devices) < 2:
        pytest.skip(f"needs 2 devices, found {len(devices)} (tests/conftest.py asks XLA for 2 "
                    "host devices; a backend that ignores the flag gives 1)")
    g_na = jnp.linspace(100.0, 140.0, 8)
    current = jnp.full(300, 10.0)
    sharded = scjax.shard_batch(g_na)
    assert len(sharded.sharding.device_set) == len(devices)
    out = jax.jit(_batched_run)(sharded, current)
    assert len(out.sharding.device_set) == len(devices)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(jax.jit(_batched_run)(g_na, current)))


def test_shard_batch_rejects_a_ragged_batch():
    if len(jax.devices()) < 2:
        pytest.skip(f"needs 2 devices, found {len(jax.devices())}")
    with pytest.raises(ValueError, match="multiple"):
        scjax.shard_batch(jnp.ones(3))
