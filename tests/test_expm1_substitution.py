"""`expm1="polynomial"` (scjax.simulation._expm1_substitution) side by side with the default.

The option changes only how `expm1` rounds (≤ 2 ulp): the default's spike counts must be
reproduced exactly and its states to near rounding, gradients too; a model without `expm1`
must be bitwise unchanged, and the compiled loop must really have no `expm1` left.
"""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax.simulation._expm1_substitution import with_expm1

N, T, DT = 32, 2000, 0.01


def _hh_batch(integrator: str, expm1: str, **kwargs):
    amplitude = jnp.asarray(5.0 + 10.0 * np.arange(N) / N)
    return scjax.simulate_batch(
        scjax.HodgkinHuxley(integrator=integrator),
        scjax.stimulus.Constant(amplitude),
        DT,
        n_steps=T,
        save_every=T // 4,
        spikes="count",
        expm1=expm1,
        **kwargs,
    )


@pytest.mark.parametrize("integrator", ["rk4", "exponential_euler"])
def test_hodgkin_huxley_batch_agrees_with_the_default(integrator):
    default, polynomial = _hh_batch(integrator, "xla"), _hh_batch(integrator, "polynomial")
    assert int(default.spike_count.sum()) > N  # the run spikes: the comparison means something
    np.testing.assert_array_equal(polynomial.spike_count, default.spike_count)
    # A few ulp per rate and step, through 2000 steps with spikes (dt = 0.01 ms).
    np.testing.assert_allclose(polynomial.y, default.y, rtol=1e-9, atol=1e-9)
    assert not np.array_equal(polynomial.y, default.y)  # the option does change the rounding


def test_single_neuron_simulate_agrees_with_the_default():
    current = jnp.full(T, 10.0)
    model = scjax.HodgkinHuxley(integrator="rk4")
    default = scjax.simulate(model, current, DT)
    polynomial = scjax.simulate(model, current, DT, expm1="polynomial")
    np.testing.assert_array_equal(polynomial.spikes, default.spikes)
    np.testing.assert_allclose(polynomial.y, default.y, rtol=1e-9, atol=1e-9)


def test_a_model_without_expm1_is_bitwise_unchanged():
    amplitude = jnp.asarray(5.0 + 10.0 * np.arange(N) / N)

    def run(expm1):
        return scjax.simulate_batch(
            scjax.Izhikevich.preset("RS"), scjax.stimulus.Constant(amplitude), 0.5,
            n_steps=T, expm1=expm1,
        )  # fmt: skip

    default, polynomial = run("xla"), run("polynomial")
    np.testing.assert_array_equal(polynomial.y, default.y)
    np.testing.assert_array_equal(polynomial.spikes, default.spikes)


def test_gradient_agrees_with_the_default():
    current = jnp.full(200, 10.0)

    def loss(g_na, expm1):
        model = scjax.HodgkinHuxley(g_na=g_na, integrator="rk4")
        y = scjax.simulate(model, current, DT, expm1=expm1).y
        return jnp.mean(y[:, 0] ** 2)

    default = jax.grad(loss)(120.0, "xla")
    polynomial = jax.grad(loss)(120.0, "polynomial")
    assert abs(default) > 0
    np.testing.assert_allclose(polynomial, default, rtol=1e-9)


def test_the_compiled_loop_has_no_expm1_left():
    amplitude = jnp.asarray(5.0 + 10.0 * np.arange(N) / N)

    def hlo(expm1):
        def counts():
            return scjax.simulate_batch(
                scjax.HodgkinHuxley(integrator="rk4"), scjax.stimulus.Constant(amplitude),
                DT, n_steps=8, spikes="count", save_every=8, expm1=expm1,
            ).spike_count  # fmt: skip

        return jax.jit(counts).lower().compile().as_text()

    assert re.search(r"exponential-minus-one\(", hlo("xla"))
    assert not re.search(r"exponential-minus-one\(", hlo("polynomial"))


def test_substitution_inlines_calls_and_leaves_other_primitives():
    @jax.jit
    def inner(x):
        return jnp.expm1(x) * 2.0

    def step(x):
        return inner(x) + jnp.exp(x)

    jaxpr = jax.make_jaxpr(with_expm1(step, "polynomial"))(jnp.ones(3)).jaxpr
    names = [eqn.primitive.name for eqn in jaxpr.eqns]
    assert "expm1" not in names and "pjit" not in names  # the call is inlined
    assert "exp" in names and "custom_jvp_call" in names
    x = jnp.linspace(-2.0, 2.0, 5)
    np.testing.assert_allclose(with_expm1(step, "polynomial")(x), step(x), rtol=1e-15)
    assert with_expm1(step, "xla") is step


@pytest.mark.parametrize("bad", ["fast", None, 1])
def test_refuses_an_unknown_implementation(bad):
    with pytest.raises(ValueError, match="expm1 must be one of"):
        scjax.simulate(scjax.HodgkinHuxley(), jnp.zeros(10), DT, expm1=bad)


def test_refuses_the_pallas_loop_and_auto_takes_the_xla_loop():
    amplitude = jnp.asarray(5.0 + 10.0 * np.arange(N) / N)
    with pytest.raises(ValueError, match="expm1='polynomial' runs on the XLA loop only"):
        _hh_batch("rk4", "polynomial", loop="pallas")
    auto = scjax.simulate_batch(
        scjax.HodgkinHuxley(integrator="rk4"), scjax.stimulus.Constant(amplitude), DT,
        n_steps=T, spikes="count", save_every=T, expm1="polynomial", loop="auto",
    )  # fmt: skip
    np.testing.assert_array_equal(auto.spike_count, _hh_batch("rk4", "xla").spike_count)
