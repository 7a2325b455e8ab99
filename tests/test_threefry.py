"""stimulus._threefry: JAX's threefry normal draws as elementwise integer arithmetic.

Truth: the Threefry-2x32-20 known-answer vectors of the reference implementation (Random123,
Salmon et al. 2011), and `jax.random` itself, bit for bit, under both settings of
`jax_threefry_partitionable`.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax.stimulus._threefry import ThreefryKey, normal_at_step, threefry2x32, threefry_key

# Random123's kat_vectors for threefry2x32_20: (key, counter) -> output.
_KNOWN_ANSWERS = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]


@pytest.mark.parametrize(("key", "counter", "expected"), _KNOWN_ANSWERS)
def test_block_cipher_known_answers(key, counter, expected):
    words = [np.uint32(x) for x in (*key, *counter)]
    out = threefry2x32(*(jnp.asarray(w) for w in words))
    assert tuple(int(x) for x in out) == expected


def _bits(x):
    x = np.asarray(x)
    return x.view(np.uint32 if x.dtype == np.float32 else np.uint64)


@pytest.mark.parametrize("partitionable", [True, False])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_normal_equals_jax_random_bit_for_bit(partitionable, dtype):
    keys = jax.random.split(jax.random.key(11), 400)
    # Steps up to 2³¹ − 1, the loop's int32 step index.
    steps = jnp.concatenate(
        [jnp.arange(200, dtype=jnp.int32), jnp.int32(2**31 - 1) - jnp.arange(200, dtype=jnp.int32)]
    )
    like = jnp.zeros((), dtype)
    with jax.threefry_partitionable(partitionable):
        expected = jax.jit(
            jax.vmap(lambda k, n: jax.random.normal(jax.random.fold_in(k, n), (), dtype))
        )(keys, steps)
        got = jax.jit(jax.vmap(lambda k, n: normal_at_step(threefry_key(k), n, like)))(keys, steps)
    np.testing.assert_array_equal(_bits(got), _bits(expected))
    # A Gaussian: mean 0 and variance 1 within 5 standard errors of 400 draws.
    assert abs(float(jnp.mean(got))) < 5 / np.sqrt(400)
    assert abs(float(jnp.var(got)) - 1.0) < 5 * np.sqrt(2 / 400)


def test_legacy_keys_and_other_implementations():
    legacy = jax.random.PRNGKey(3)  # uint32[2], the default (threefry) implementation
    words = threefry_key(legacy)
    assert isinstance(words, ThreefryKey)
    like = jnp.zeros((), jnp.float64)
    expected = jax.random.normal(jax.random.fold_in(legacy, 17), (), jnp.float64)
    assert _bits(normal_at_step(words, 17, like)) == _bits(expected)
    # An rbg key keeps jax.random's own draws.
    rbg = jax.random.key(3, impl="rbg")
    assert threefry_key(rbg) is rbg
    expected = jax.random.normal(jax.random.fold_in(rbg, 17), (), jnp.float64)
    assert _bits(normal_at_step(rbg, 17, like)) == _bits(expected)
    # A non-scalar draw falls back to jax.random on the wrapped key.
    wide = jnp.zeros((3,), jnp.float32)
    key = jax.random.key(4)
    expected = jax.random.normal(jax.random.fold_in(key, 2), (3,), jnp.float32)
    np.testing.assert_array_equal(normal_at_step(threefry_key(key), 2, wide), expected)


def test_simulated_noise_is_jax_random_noise():
    # The loop's white noise from the key's words equals the current built by hand from
    # jax.random: a single Izhikevich neuron driven by each gives the same trajectory.
    dt, n_steps, std, mean = 0.5, 200, 2.0, 6.0
    key = jax.random.key(9)
    stimulus = scjax.stimulus.WhiteNoise(std=std, mean=mean)
    drawn = scjax.simulate(scjax.Izhikevich(), stimulus, dt, n_steps=n_steps, key=key)
    xi = jnp.stack(
        [jax.random.normal(jax.random.fold_in(key, n), (), jnp.float64) for n in range(n_steps)]
    )
    by_hand = scjax.simulate(scjax.Izhikevich(), mean + std * xi / jnp.sqrt(dt), dt)
    np.testing.assert_array_equal(drawn.y, by_hand.y)
    assert int(drawn.spike_count) > 0
