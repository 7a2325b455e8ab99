"""scjax.simulation._substitution: a function re-evaluated with some primitives replaced."""

import jax
import jax.numpy as jnp
import numpy as np

from scjax.simulation._substitution import substituted


def _f(x, pair):
    inner = jax.jit(lambda z: jnp.sin(z) * 2.0)  # a call: its body is substituted too
    return {"a": inner(x) + pair[0], "b": jnp.sin(pair[1]) - x}


def test_rules_reach_inside_calls_and_keep_the_pytrees():
    x, pair = jnp.linspace(0.0, 1.0, 5), (jnp.ones(5), jnp.full(5, 2.0))
    out = substituted(_f, {"sin": lambda eqn, inputs: [jnp.cos(*inputs)]})(x, pair)
    np.testing.assert_array_equal(out["a"], jnp.cos(x) * 2.0 + 1.0)
    np.testing.assert_array_equal(out["b"], jnp.cos(pair[1]) - x)


def test_without_rules_or_with_declining_rules_the_values_are_bitwise_the_functions():
    x, pair = jnp.linspace(-3.0, 3.0, 7), (jnp.arange(7.0), jnp.linspace(0.1, 9.0, 7))
    expected = _f(x, pair)
    for rules in ({}, {"sin": lambda eqn, inputs: None}):
        out = substituted(_f, rules)(x, pair)
        np.testing.assert_array_equal(out["a"], expected["a"])
        np.testing.assert_array_equal(out["b"], expected["b"])


def test_differentiates_through_the_substitution():
    rules = {"sin": lambda eqn, inputs: [jnp.cos(*inputs)]}
    g = jax.grad(lambda x: substituted(jnp.sin, rules)(x))(0.3)
    np.testing.assert_allclose(g, -np.sin(0.3), rtol=1e-15)
