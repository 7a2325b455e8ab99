"""simulate_batch: the state-major batched loop equals jax.vmap(simulate) exactly."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax


def _assert_same(batch, vmapped):
    for field in ("t", "y", "spikes", "spike_signal", "diverged", "spike_count"):
        a, b = getattr(batch, field), getattr(vmapped, field)
        assert (a is None) == (b is None), field
        if a is not None:
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=field)


def test_hh_parameter_batch_equals_vmap():
    g_na = jnp.linspace(100.0, 140.0, 6)
    current = jnp.full(1500, 10.0)  # 30 ms: two spikes each
    batch = scjax.simulate_batch(scjax.HodgkinHuxley(g_na=g_na, integrator="rk4"), current, 0.02)
    vmapped = jax.vmap(lambda g: scjax.simulate(scjax.HodgkinHuxley(g_na=g, integrator="rk4"),
                                                current, 0.02))(g_na)
    assert batch.y.shape == (6, 1501, 4) and batch.spikes.shape == (6, 1500)
    assert int(batch.spike_count.sum()) > 6
    _assert_same(batch, vmapped)


def test_izhikevich_currents_and_y0_batch_equals_vmap():
    currents = jnp.stack([jnp.full(1000, i) for i in (4.0, 8.0, 12.0)])
    y0 = jnp.array([[-65.0, -13.0], [-70.0, -14.0], [-60.0, -12.0]])
    model = scjax.Izhikevich.preset("CH")
    batch = scjax.simulate_batch(model, currents, 0.1, y0=y0, save_every=10)
    vmapped = jax.vmap(lambda c, y: scjax.simulate(model, c, 0.1, y0=y, save_every=10))(
        currents, y0)
    _assert_same(batch, vmapped)


def test_batch_surrogate_gradient_equals_vmap():
    current = jnp.full(300, 800.0)

    def loss(b, batched):
        s = scjax.SigmoidSurrogate(0.5)
        if batched:
            return scjax.simulate_batch(scjax.AdEx(b=b, v_peak=-40.4), current, 0.1,
                                        surrogate=s).spike_signal.sum()
        return jax.vmap(lambda bb: scjax.simulate(scjax.AdEx(b=bb, v_peak=-40.4), current, 0.1,
                                                  surrogate=s).spike_signal.sum())(b).sum()

    b = jnp.array([60.0, 80.5, 100.0, 120.0])
    np.testing.assert_allclose(np.asarray(jax.grad(loss)(b, True)),
                               np.asarray(jax.grad(loss)(b, False)), rtol=1e-12, atol=1e-15)


def test_batch_accepts_surrogate_names_and_simulate_refuses_batched_models():
    model = scjax.AdEx(b=jnp.array([60.0, 80.5]), v_peak=-40.4)
    tr = scjax.simulate_batch(model, jnp.full(200, 800.0), 0.1, surrogate="sigmoid")
    assert tr.spike_signal.shape == (2, 200)
    with pytest.raises(ValueError, match="simulate_batch"):
        scjax.simulate(model, jnp.full(200, 800.0), 0.1)


def test_batch_bad_input():
    with pytest.raises(ValueError, match="batch size"):
        scjax.simulate_batch(scjax.LIF(tau_m=jnp.ones(3) * 20.0), jnp.ones((4, 10)), 0.1)
    with pytest.raises(ValueError, match="tau_m"):
        scjax.simulate_batch(scjax.LIF(tau_m=jnp.ones((2, 2))), jnp.ones(10), 0.1)
    with pytest.raises(ValueError, match="current"):
        scjax.simulate_batch(scjax.LIF(tau_m=jnp.ones(2) * 20.0),
                             jnp.ones((2, 10)).at[1, 3].set(jnp.nan), 0.1)
    with pytest.raises(ValueError, match="upstroke"):
        scjax.simulate_batch(scjax.Izhikevich(a=jnp.full(4, 0.02), integrator="rosenbrock2"),
                             jnp.ones(10), 0.1)
