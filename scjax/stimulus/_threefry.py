"""The noise stimuli's Gaussian draws as elementwise 32-bit integer arithmetic.

A noise stimulus draws step n's Gaussian as `jax.random.normal(jax.random.fold_in(key, n))`.
JAX evaluates that with its `threefry2x32` primitive, which a Pallas kernel cannot contain
(Triton has no lowering for it). `ThreefryKey` holds a threefry key as its two 32-bit words
and computes the same draw from additions, XORs and shifts of `uint32` values — the
Threefry-2x32 block cipher with 20 rounds (Salmon, Moraes, Dror & Shaw 2011, "Parallel random
numbers: as easy as 1, 2, 3", SC'11), then JAX's own conversion of random bits to a uniform
variate and of that to a Gaussian (`√2·erf⁻¹(u)`, u uniform on (−1, 1)). Integer arithmetic is
exact, so the bits equal JAX's on every backend, under either setting of
`jax_threefry_partitionable` (tests/test_threefry.py compares them with `jax.random` over
many keys and steps); the Gaussian then equals JAX's wherever `erf_inv` is evaluated as XLA
evaluates it (the XLA loop, a Pallas kernel in interpret mode), and agrees to rounding in a
Triton kernel (its own `erf_inv` polynomial).

The XLA loop and the Pallas kernel both draw through it, so their noise is one computation.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, UInt32

#: Threefry-2x32's rotation constants, rounds 1–4 and 5–8 (Salmon et al. 2011, table 4), and
#: its key-schedule parity constant.
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA


def _rotate_left(x, distance: int):
    # distance is 1 … 31: a shift by 32 would be undefined in Triton (poison), not 0.
    return (x << np.uint32(distance)) | (x >> np.uint32(32 - distance))


def threefry2x32(key0, key1, count0, count1):
    """The Threefry-2x32 block cipher (20 rounds) of the counter `(count0, count1)` under the
    key `(key0, key1)`: two `uint32` words of the arrays' broadcast shape."""
    schedule = (key0, key1, key0 ^ key1 ^ np.uint32(_PARITY))
    x0, x1 = count0 + schedule[0], count1 + schedule[1]
    for block in range(5):  # 5 blocks of 4 rounds, a key injection after each
        for distance in _ROTATIONS[block % 2]:
            x0 = x0 + x1
            x1 = _rotate_left(x1, distance) ^ x0
        x0 = x0 + schedule[(block + 1) % 3]
        x1 = x1 + schedule[(block + 2) % 3] + np.uint32(block + 1)
    return x0, x1


def _partitionable() -> bool:
    return bool(jax.config.jax_threefry_partitionable)  # pyright: ignore[reportAttributeAccessIssue]


class ThreefryKey(eqx.Module):
    """A `threefry2x32` PRNG key as its two 32-bit words: `jax.random.key_data(key)[..., 0]`
    and `[..., 1]` (`uint32` arrays of one shape, `[]` for one neuron's key, `[B]` for a
    batch's). Its draws equal `jax.random`'s from the key it was made from."""

    high: UInt32[Array, "*B"]
    low: UInt32[Array, "*B"]

    def fold_in(self, n: Int[Array, "*B"]) -> "ThreefryKey":
        """`jax.random.fold_in(key, n)` for a non-negative int n (below 2³²)."""
        # fold_in hashes the counter (n >> 32, n & 0xFFFFFFFF) of a 32-bit n: (0, n).
        n = jnp.asarray(n).astype(jnp.uint32)
        return ThreefryKey(*threefry2x32(self.high, self.low, jnp.zeros_like(n), n))

    def normal(self, dtype) -> Float[Array, "*B"]:
        """`jax.random.normal(key, (), dtype)` of each key (float32 or float64)."""
        dtype = np.dtype(dtype)
        info = np.finfo(dtype)
        bits = self._bits(info.bits)
        # jax.random.uniform's conversion: the mantissa's bits under the exponent of 1.0 make
        # a float in [1, 2); minus 1, scaled to [lo, 1) with lo the float after −1.
        unsigned = bits.dtype
        mantissa = bits >> np.array(info.bits - info.nmant, unsigned)
        one = np.array(1.0, dtype).view(unsigned)
        floats = jax.lax.bitcast_convert_type(mantissa | one, dtype) - np.array(1.0, dtype)
        low = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype), dtype=dtype)
        high = np.array(1.0, dtype)
        uniform = jnp.maximum(low, floats * (high - low) + low)
        return jnp.asarray(np.sqrt(2), dtype) * jax.lax.erf_inv(uniform)

    def _bits(self, width: int):
        """`jax.random.bits(key, (), uint{width})` for width 32 or 64."""
        zero = jnp.zeros_like(self.high)
        if _partitionable():  # the counter of element 0 of a `()` draw: (0, 0)
            first, second = threefry2x32(self.high, self.low, zero, zero)
            if width == 32:
                return first ^ second
        elif width == 32:  # the original scheme: word 0 of the hash of the counter (0, 0)
            return threefry2x32(self.high, self.low, zero, zero)[0]
        else:  # the original scheme: the hash of the counter (0, 1), word 0 high
            first, second = threefry2x32(self.high, self.low, zero, zero + np.uint32(1))
        high = first.astype(jnp.uint64) << np.uint64(32)
        return high | second.astype(jnp.uint64)

    def as_jax_key(self) -> jax.Array:
        """The typed `jax.random` key of these words."""
        return jax.random.wrap_key_data(jnp.stack([self.high, self.low], axis=-1))


#: Whether threefry keys are held as their words (`ThreefryKey`); a switch for
#: experiments/noise_draws.py, which times both. The same draws either way; the words are
#: also faster in the XLA loop on the CPU, where JAX lowers its threefry primitive to a
#: rolled loop (experiments/results/noise_draws.json).
WORDS_FOR_THREEFRY_KEYS = True


def threefry_key(key: jax.Array) -> ThreefryKey | jax.Array:
    """The `ThreefryKey` of one `threefry2x32` key (a typed key `jax.random.key(seed)`, or a
    legacy `uint32[2]` key under the default implementation); any other key is returned as it
    is (its draws stay `jax.random`'s)."""
    if not WORDS_FOR_THREEFRY_KEYS:
        return key
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if str(jax.random.key_impl(key)) != "threefry2x32" or key.shape != ():
            return key
        data = jax.random.key_data(key)
    elif (
        key.dtype == jnp.uint32
        and key.shape == (2,)
        and str(jax.config.jax_default_prng_impl) == "threefry2x32"  # pyright: ignore[reportAttributeAccessIssue]
    ):
        data = key
    else:
        return key
    return ThreefryKey(data[0], data[1])


def normal_at_step(key: ThreefryKey | jax.Array, n, like: Array) -> Array:
    """`jax.random.normal(jax.random.fold_in(key, n), like.shape, like.dtype)`."""
    if isinstance(key, ThreefryKey):
        if jnp.shape(like) == () and jnp.shape(key.high) == ():
            return key.fold_in(n).normal(like.dtype)
        key = key.as_jax_key()
    return jax.random.normal(jax.random.fold_in(key, n), jnp.shape(like), like.dtype)
