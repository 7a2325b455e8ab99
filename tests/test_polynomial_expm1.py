"""scjax._polynomial_expm1: eˣ − 1 from multiplies and adds, checked against the C library.

The truth is Python's `math.expm1` (the platform's libm, correctly rounded or within half an
ulp on glibc) evaluated in float64 and rounded to the tested dtype; errors are measured in
units of the last place of the true value in that dtype.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scjax._polynomial_expm1 import polynomial_expm1

_MAX_ULP = 2.0


def _libm_expm1(x: float) -> float:
    try:
        return math.expm1(x)
    except OverflowError:
        return math.inf


def _ulp_errors(x: np.ndarray) -> np.ndarray:
    got = np.asarray(jax.jit(polynomial_expm1)(jnp.asarray(x))).astype(np.float64)
    truth = np.array([_libm_expm1(float(v)) for v in x])
    rounded = truth.astype(x.dtype)
    finite = np.isfinite(rounded)
    assert np.array_equal(got[~finite], rounded[~finite].astype(np.float64))
    spacing = np.spacing(np.abs(rounded[finite])).astype(np.float64)
    return np.abs(got[finite] - truth[finite]) / spacing


@pytest.mark.parametrize(
    "dtype, high", [(np.float64, 709.78), (np.float32, 88.72)], ids=["float64", "float32"]
)
def test_within_two_ulp_of_the_c_library_over_the_whole_range(dtype, high):
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(-80.0, high, 40_000),  # the whole range, −1 and overflow included
            rng.uniform(-3.0, 3.0, 40_000),  # where HH's exprel arguments lie
            rng.normal(0.0, 1e-3, 10_000),  # near 0, where exp(x) − 1 would cancel
            rng.normal(0.0, 1e-12, 2_000),
            np.log(2.0) * (np.arange(-40, 41) + 0.5),  # reduction boundaries
        ]
    ).astype(dtype)
    errors = _ulp_errors(x)
    assert errors.max() <= _MAX_ULP, x[np.argmax(errors)]
    # Mostly correctly rounded (≥ 90 % of inputs; ~94 % measured without FMA, as here).
    assert np.mean(errors > 0.5) < 0.1


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_special_values(dtype):
    info = np.finfo(dtype)
    x = np.array(
        [np.nan, 0.0, -0.0, np.inf, -np.inf, np.log(info.max) * 0.9999, 1000.0, -1000.0], dtype
    )
    y = np.asarray(polynomial_expm1(jnp.asarray(x)))
    assert np.isnan(y[0])
    assert y[1] == 0.0 and not np.signbit(y[1])
    assert y[2] == 0.0 and np.signbit(y[2])
    assert y[3] == np.inf and y[4] == -1.0
    assert np.isfinite(y[5]) and y[5] > info.max / 2  # just below the overflow threshold
    assert y[6] == np.inf and y[7] == -1.0
    assert y.dtype == dtype


def test_derivative_is_expm1_plus_one_and_matches_finite_differences():
    x = jnp.linspace(-5.0, 5.0, 41)
    grad = jax.vmap(jax.grad(polynomial_expm1))(x)
    np.testing.assert_array_equal(grad, polynomial_expm1(x) + 1.0)
    h = 1e-6
    central = (polynomial_expm1(x + h) - polynomial_expm1(x - h)) / (2 * h)
    np.testing.assert_allclose(grad, central, rtol=1e-8)
    # Second derivative through the rule: d²/dx² expm1 = eˣ (as expm1(x) + 1: absolute error
    # of an ulp of 1 where eˣ is small).
    second = jax.vmap(jax.grad(jax.grad(polynomial_expm1)))(x)
    np.testing.assert_allclose(second, np.exp(np.asarray(x)), rtol=1e-15, atol=2.3e-16)


def test_refuses_a_non_float_dtype():
    with pytest.raises(ValueError, match="x: polynomial_expm1 supports float32 and float64"):
        polynomial_expm1(jnp.arange(3))
