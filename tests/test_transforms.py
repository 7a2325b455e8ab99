import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax.fitting import Affine, Exp, Sigmoid, Softplus, default_transform

TRANSFORMS = [
    (Affine(scale=65.0, offset=-10.0), np.array([-80.0, -1.0, 0.0, 3.5, 120.0])),
    (Softplus(scale=36.0), np.array([1e-3, 0.3, 36.0, 500.0, 5e4])),
    (Softplus(scale=2.0, low=-5.0), np.array([-4.999, -1.0, 0.0, 40.0])),
    (Exp(scale=144.0), np.array([1e-3, 1.0, 144.0, 1e5])),
    (Sigmoid(low=-2.0, high=3.0), np.array([-1.999, -1.0, 0.0, 2.5, 2.9999])),
]


@pytest.mark.parametrize("transform,values", TRANSFORMS)
def test_roundtrip(transform, values):
    u = transform.inverse(jnp.asarray(values))
    np.testing.assert_allclose(transform.forward(u), values, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("transform,values", TRANSFORMS[1:])
def test_range_is_never_left(transform, values):
    # However far the optimiser pushes u, the value stays inside the range.
    u = jnp.array([-700.0, -50.0, -1.0, 0.0, 1.0, 50.0, 700.0])
    p = np.asarray(transform.forward(u))
    assert np.all(np.isfinite(p[1:-1]))
    low = getattr(transform, "low", 0.0)
    assert np.all(p >= low)
    if isinstance(transform, Sigmoid):
        assert np.all(p <= transform.high)
    assert np.all(np.diff(p) >= 0)  # monotone


@pytest.mark.parametrize("transform,values", TRANSFORMS)
def test_derivative_matches_finite_differences(transform, values):
    u = transform.inverse(jnp.asarray(values[1:-1]))
    h = 1e-6
    fd = (transform.forward(u + h) - transform.forward(u - h)) / (2 * h)
    ad = jax.vmap(jax.grad(transform.forward))(u)
    np.testing.assert_allclose(ad, fd, rtol=1e-7)


def test_softplus_closed_form():
    # softplus(u) = log(1 + e^u): at u = 0, p = scale·log 2; the slope there is scale/2.
    t = Softplus(scale=3.0, low=1.0)
    assert float(t.forward(0.0)) == pytest.approx(1.0 + 3.0 * np.log(2.0), rel=1e-15)
    assert float(jax.grad(t.forward)(0.0)) == pytest.approx(1.5, rel=1e-15)
    # Large inputs: softplus⁻¹(x) ≈ x without overflow.
    assert float(t.inverse(1.0 + 3.0 * 800.0)) == pytest.approx(800.0, rel=1e-15)


def test_default_transforms():
    hh = scjax.HodgkinHuxley()
    assert default_transform(hh, "g_na", 120.0) == Softplus(scale=120.0)
    assert default_transform(hh, "e_na", 50.0) == Affine(scale=50.0)
    iz = scjax.Izhikevich()
    assert default_transform(iz, "a", 0.02) == Softplus(scale=0.02)
    assert default_transform(iz, "c", -65.0) == Affine(scale=65.0)
    assert default_transform(iz, "d", 0.0) == Affine(scale=1.0)
    adex = scjax.AdEx()
    assert isinstance(default_transform(adex, "tau_w", 144.0), Softplus)
    assert isinstance(default_transform(adex, "a", 4.0), Affine)  # a < 0 in some patterns


def test_bad_transform_arguments():
    with pytest.raises(ValueError, match="scale"):
        Softplus(scale=0.0)
    with pytest.raises(ValueError, match="scale"):
        Affine(scale=-1.0)
    with pytest.raises(ValueError, match="low < high"):
        Sigmoid(low=1.0, high=1.0)
    assert not Softplus(scale=1.0).contains(-0.5)
    assert not Sigmoid(low=0.0, high=1.0).contains(1.0)
