"""scjax.simulation._materialise: shared intermediates of the batched step computed once.

The rewrite must not change a single bit (x / 1 is exact; the tests run without FMA, see
conftest), must pick what XLA would otherwise recompute (Izhikevich's new v) and nothing
where it does not pay, and must really remove the recomputation from the compiled loop.
"""

import contextlib
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax.simulation import _loop, _materialise

N, T, DT = 64, 300, 0.5


@contextlib.contextmanager
def _shared_once(on: bool):
    """The loop traced and compiled afresh with the switch set (it is read while tracing,
    and the trace is cached)."""
    previous = _loop.SHARED_ONCE_ON_CPU
    _loop.SHARED_ONCE_ON_CPU = on
    jax.clear_caches()
    _loop.compiled_for_backend.cache_clear()
    try:
        yield
    finally:
        _loop.SHARED_ONCE_ON_CPU = previous
        jax.clear_caches()
        _loop.compiled_for_backend.cache_clear()


def _izhikevich_batch(shared_once: bool, **kwargs):
    """An Izhikevich RS batch, I_i = 5 + 10 i/N, with the switch set."""
    amplitude = jnp.asarray(5.0 + 10.0 * np.arange(N) / N)
    model = scjax.Izhikevich.preset("RS")
    with _shared_once(shared_once):
        return scjax.simulate_batch(
            model, scjax.stimulus.Constant(amplitude), DT, n_steps=T, **kwargs
        )


def _leaves_equal(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


pytestmark = pytest.mark.skipif(
    jax.default_backend() != "cpu", reason="the rewrite applies to XLA's CPU backend only"
)


@pytest.mark.parametrize("spikes", ["raster", "count", "times"])
def test_results_are_bitwise_those_of_the_plain_step(spikes):
    _leaves_equal(_izhikevich_batch(True, spikes=spikes), _izhikevich_batch(False, spikes=spikes))


def test_divergence_and_surrogate_are_bitwise_unchanged():
    # A neuron blowing up mid-run (1e307 overflows v inside a step) and a surrogate signal.
    current = np.full((3, 200), 10.0)
    current[1, 120:] = 1e307
    model = scjax.Izhikevich.preset("RS")
    runs = []
    for shared_once in (True, False):
        with _shared_once(shared_once):
            runs.append(
                [
                    scjax.simulate_batch(model, current, DT, throw=False),
                    scjax.simulate_batch(model, current, DT, throw=False, surrogate="sigmoid"),
                ]
            )
    _leaves_equal(runs[0], runs[1])
    assert np.all(np.isnan(np.asarray(runs[0][0].y[1, 121:])))


def test_gradient_is_unchanged():
    amplitude = jnp.asarray(5.0 + 10.0 * np.arange(8) / 8)

    def loss(a):
        tr = scjax.simulate_batch(
            scjax.Izhikevich(a=a), scjax.stimulus.Constant(amplitude), DT, n_steps=200,
            surrogate="sigmoid", spikes="count",
        )  # fmt: skip
        return jnp.sum(tr.spike_count) + jnp.sum(tr.y[:, -1, 0])

    grads = []
    for shared_once in (True, False):
        with _shared_once(shared_once):
            grads.append(jax.grad(loss)(jnp.full(8, 0.02)))
    np.testing.assert_array_equal(np.asarray(grads[0]), np.asarray(grads[1]))
    assert np.all(np.isfinite(np.asarray(grads[0]))) and np.any(np.asarray(grads[0]) != 0)


def _chosen_primitives(fn, *args, shape):
    """The primitives whose outputs `_chosen` picks in `fn(*args)`."""
    closed = jax.make_jaxpr(fn)(*args)
    graph = _materialise._Graph()
    inputs = [graph.new(v.aval) for v in closed.jaxpr.invars]
    outputs = graph.add(closed.jaxpr, closed.consts, inputs)
    chosen = _materialise._chosen(graph, set(inputs), _materialise._ids(outputs), shape)
    return sorted(eqn.primitive.name for eqn, _, outs in graph.nodes for o in outs if o in chosen)


def test_chooses_the_shared_chain_and_nothing_where_it_does_not_pay():
    x = jnp.linspace(-1.0, 1.0, 16)

    def izhikevich_like(v, u):  # v' (a chain of 9 ops) feeds v, u and the spike
        w = v + 0.25 * (0.04 * v * v + 5.0 * v + 140.0 - u)
        w = w + 0.25 * (0.04 * w * w + 5.0 * w + 140.0 - u)
        spike = w >= 30.0
        return jnp.where(spike, -65.0, w), u + 0.5 * (0.2 * w - u), spike

    assert _chosen_primitives(izhikevich_like, x, x, shape=(16,)) == ["add"]  # w, once

    def short(v, u):  # too few operations behind the shared value
        w = v + u
        return w * 2.0, w * 3.0

    assert _chosen_primitives(short, x, x, shape=(16,)) == []

    def with_exponential(v, u):  # XLA computes the shared exp(v) once already: left to XLA
        e = jnp.exp(v)
        w = ((e * u + 1.0) * u + 2.0) * u
        return w * 2.0, w * 3.0 + e

    assert _chosen_primitives(with_exponential, x, x, shape=(16,)) == []
    # Another shape than the batch's is never chosen.
    assert _chosen_primitives(izhikevich_like, x, x, shape=(8,)) == []


def test_materialised_is_exact_on_edge_values():
    x = jnp.asarray([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-310, 1.5, -2.25] * 2)

    def chain(v, u):
        w = ((v * 0.5 + u) * 0.25 - u) * 2.0
        return w + 1.0, w - u

    ones = _materialise.runtime_ones(x)
    np.testing.assert_array_equal(np.asarray(ones), np.ones(16))
    got = _materialise.materialised(chain, (16,))(ones, x, x[::-1])
    _leaves_equal(got, chain(x, x[::-1]))
    assert _chosen_primitives(chain, x, x, shape=(16,)) == ["mul"]


def _while_bodies(hlo: str) -> list[str]:
    bodies = []
    for name in re.findall(r"body=%?([\w.\-]+)", hlo):
        found = re.search(r"\n%?" + re.escape(name) + r" .*?\{\n(.*?)\n\}", hlo, re.S)
        assert found is not None, name
        bodies.append(found.group(1))
    return bodies


def _compiled_loop_text(shared_once: bool) -> str:
    amplitude = jnp.asarray(5.0 + 10.0 * np.arange(N) / N)

    def counts():
        return scjax.simulate_batch(
            scjax.Izhikevich.preset("RS"), scjax.stimulus.Constant(amplitude), DT,
            n_steps=T, spikes="count", save_every=T,
        ).spike_count  # fmt: skip

    with _shared_once(shared_once):
        return jax.jit(counts).lower().compile().as_text()


def test_the_compiled_loop_computes_the_step_once_and_updates_the_carry_in_place():
    on, off = _compiled_loop_text(True), _compiled_loop_text(False)
    # XLA's CPU fusions copy the new v's chain into the outputs that read it (v, u, count):
    # computing it once removes at least a third of the loop's multiplications.
    assert on.count(" multiply(") <= 0.67 * off.count(" multiply(")
    # Nothing in the step reads the old state after an output is written: no carry copies.
    inner = min(_while_bodies(on), key=len)
    assert " copy(" not in inner, inner
