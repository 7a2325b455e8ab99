"""expm1 from multiplies and adds: branch-free, so XLA vectorises it (`expm1="polynomial"`).

Hodgkin–Huxley's rates α_m and α_n are k·x / (1 − e^(−x/s)), evaluated through
`exprel(z) = expm1(z)/z` (`scjax.models._base.exprel`): 8 `expm1` per RK4 step. XLA's CPU
backend evaluates float64 `expm1` far more slowly than `exp`: on AVX-512, N = 10⁴ HH
neurons, one core, each fusion computing an α through `expm1` took ~29 µs per step against
~11 µs for one computing a β through `exp` (JAX's profiler), so the 8 `expm1` were ~40 % of
the step. This version uses the classic reduction (Cody & Waite 1980; Tang 1992):

    x = n·ln 2 + r,   n = round(x / ln 2),   |r| ≤ ln 2 / 2
    q = expm1(r) = r + r²·(1/2! + r/3! + … + r^(d−2)/d!)     (Taylor, Horner form;
                                     d = 13 in float64, 7 in float32: truncation error
                                     below 2⁻⁵⁶ and 2⁻²⁷ of q)
    expm1(x) = 2ⁿ·q + (2ⁿ − 1)       (for n ≤ 60 in float64, 30 in float32: 2ⁿ − 1 exact)
             = 2ⁿ·(1 + q)            (above: the −1 no longer changes the result)

with ln 2 split into a head whose products n·head are exact and a tail (fdlibm's split),
so r carries no cancellation error, and 2ⁿ built from its exponent bits as 2·2ⁿ⁻¹, so
n = 1024 (x just below the overflow threshold) is representable. Every operation is a
multiply, add, compare, select, round, clip or integer shift.

Accuracy against the C library's expm1 (tests/test_polynomial_expm1.py): within 2 ulp in
float64 and float32 (XLA's own: 4 ulp in float64 on the same inputs); NaN → NaN, −0 → −0,
+inf → +inf, −inf → −1, overflow to inf exactly where the true value exceeds the largest
finite float. Results are close to, not bitwise those of, `jnp.expm1`. The derivative is
d expm1(x) = (expm1(x) + 1)·dx with this function's own value.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

# fdlibm's split of ln 2: the head has 32 significant bits (float64) or 9 (float32), so
# n·head is exact for every n the clipped range gives.
_LN2_HEAD = {np.float64: 6.93147180369123816490e-01, np.float32: 0.693359375}
_LN2_TAIL = {np.float64: 1.90821492927058770002e-10, np.float32: -2.12194440e-4}
_DEGREE = {np.float64: 13, np.float32: 7}
_EXPONENT = {np.float64: (52, 1023, np.int64), np.float32: (23, 127, np.int32)}
# Below the lower bound expm1(x) rounds to −1; just above the upper one it overflows (the
# bound is past ln of the largest finite value: 709.78, 88.72).
_RANGE = {np.float64: (-60.0, 709.8), np.float32: (-20.0, 88.8)}
# Above this n, 2ⁿ − 1 rounds to 2ⁿ and the form 2ⁿ·(1 + q) is used.
_LARGEST_EXACT_N = {np.float64: 60, np.float32: 30}


def _kind(x) -> type:
    kind = np.dtype(x.dtype).type
    if kind not in _DEGREE:
        raise ValueError(f"x: polynomial_expm1 supports float32 and float64, got {x.dtype}")
    return kind


def _half_power_of_two(n, kind):
    """2ⁿ⁻¹ for integer-valued float n (n − 1 in the normal exponent range), from its bits."""
    bits, bias, integer = _EXPONENT[kind]
    exponent = n.astype(integer) + integer(bias - 1)
    return jax.lax.bitcast_convert_type(
        jax.lax.shift_left(exponent, integer(bits)), jnp.dtype(kind)
    )


@jax.custom_jvp
def polynomial_expm1(x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
    """eˣ − 1 for float32 or float64 `x` of any shape, within 2 ulp and accurate near 0
    (see the module docstring)."""
    kind = _kind(x)
    low, high = _RANGE[kind]
    # NaN passes through clip and every operation after it as NaN.
    clipped = jnp.clip(x, low, high)
    n = jnp.round(clipped * (1.0 / math.log(2.0)))
    r = (clipped - n * _LN2_HEAD[kind]) - n * _LN2_TAIL[kind]
    coefficients = [1.0 / math.factorial(k) for k in range(2, _DEGREE[kind] + 1)]
    p = jnp.full_like(r, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        p = p * r + c
    q = r + (r * r) * p
    half = _half_power_of_two(n, kind)
    # 2·(q·2ⁿ⁻¹ + (2ⁿ⁻¹ − ½)) = q·2ⁿ + (2ⁿ − 1), rounded once; the doubling is exact.
    y = jnp.where(
        n > _LARGEST_EXACT_N[kind], ((1.0 + q) * half) * 2.0, (q * half + (half - 0.5)) * 2.0
    )
    # r is +0 for x = −0 (−0 − 0·ln 2), and expm1(−0) is −0.
    return jnp.where(x == 0, x, y)


@polynomial_expm1.defjvp
def _polynomial_expm1_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    y = polynomial_expm1(x)
    return y, (y + 1.0) * dx
