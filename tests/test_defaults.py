"""Historical defaults equal independent NumPy transcriptions of the published recurrences."""

import jax.numpy as jnp
import numpy as np
import pytest

import scjax

from .helpers import adex_euler, hodgkin_huxley_euler, izhikevich_matlab, make_current


@pytest.mark.parametrize("name", ["RS", "IB", "CH", "LTS"])
@pytest.mark.parametrize("dt", [1.0, 0.1])
def test_izhikevich_default_is_matlab_recurrence(name, dt):
    model = scjax.Izhikevich.preset(name)
    assert model.integrator == "half_euler"
    current = make_current(10_000, 10.0, seed=1)
    tr = scjax.simulate(model, jnp.asarray(current), dt)
    a, b, c, d = scjax.models.IZHIKEVICH_PRESETS[name]
    ys, spikes = izhikevich_matlab(a, b, c, d, current, dt)
    assert spikes.sum() > 10  # the comparison covers many resets
    np.testing.assert_array_equal(np.asarray(tr.spikes), spikes)
    np.testing.assert_allclose(np.asarray(tr.y), ys, rtol=1e-12, atol=1e-12)


def test_hodgkin_huxley_default_is_euler_transcription():
    model = scjax.HodgkinHuxley()
    assert model.integrator == "euler"
    current = make_current(10_000, 10.0, seed=2)
    tr = scjax.simulate(model, jnp.asarray(current), 0.01)
    ys, spikes = hodgkin_huxley_euler(current, 0.01)
    assert spikes.sum() >= 5
    np.testing.assert_array_equal(np.asarray(tr.spikes), spikes)
    np.testing.assert_allclose(np.asarray(tr.y), ys, rtol=1e-12, atol=1e-10)


def test_adex_default_is_euler_transcription():
    model = scjax.AdEx()
    assert model.integrator == "euler"
    current = make_current(10_000, 700.0, seed=3)
    tr = scjax.simulate(model, jnp.asarray(current), 0.05)
    ys, spikes = adex_euler(current, 0.05)
    assert spikes.sum() >= 5
    np.testing.assert_array_equal(np.asarray(tr.spikes), spikes)
    np.testing.assert_allclose(np.asarray(tr.y), ys, rtol=1e-12, atol=1e-10)


def test_hh_rates_finite_at_removable_singularities():
    import jax

    from scjax.models._hodgkin_huxley import alpha_m, alpha_n

    for f, v, limit in [(alpha_m, -40.0, 1.0), (alpha_n, -55.0, 0.1)]:
        assert float(f(jnp.asarray(v))) == pytest.approx(limit, rel=1e-15)
        g = float(jax.grad(f)(jnp.asarray(v)))
        # d/dV [k x / (1 - e^{-x/10})] at x = 0 is k/2 (Taylor: k·10·(1 + x/20 + ...)/10).
        assert g == pytest.approx(limit / 20.0, rel=1e-9)
        fd = (float(f(jnp.asarray(v + 1e-4))) - float(f(jnp.asarray(v - 1e-4)))) / 2e-4
        assert g == pytest.approx(fd, rel=1e-6)
