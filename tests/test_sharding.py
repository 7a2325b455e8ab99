"""Batches split over devices give the same trajectories as one device."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax


def _batched_run(g_na, current):
    return jax.vmap(
        lambda g: scjax.simulate(scjax.HodgkinHuxley(g_na=g, integrator="rk4"), current, 0.02).y
    )(g_na)


def test_sharded_batch_equals_unsharded():
    devices = jax.devices()
    if len(devices) < 2:
        pytest.skip(
            f"needs 2 devices, found {len(devices)} (tests/conftest.py asks XLA for 2 "
            "host devices; a backend that ignores the flag gives 1)"
        )
    g_na = jnp.linspace(100.0, 140.0, 8)
    current = jnp.full(300, 10.0)
    sharded = scjax.shard_batch(g_na)
    assert len(sharded.sharding.device_set) == len(devices)
    out = jax.jit(_batched_run)(sharded, current)
    assert len(out.sharding.device_set) == len(devices)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(jax.jit(_batched_run)(g_na, current)))


def test_shard_batch_rejects_a_ragged_batch():
    if len(jax.devices()) < 2:
        pytest.skip(f"needs 2 devices, found {len(jax.devices())}")
    with pytest.raises(ValueError, match="multiple"):
        scjax.shard_batch(jnp.ones(3))


# --- simulate_batch over sharded inputs: no communication inside the loop -------------------

_COLLECTIVE = re.compile(
    r"\b(all-gather|all-reduce|all-to-all|collective-permute|"
    r"reduce-scatter)(-start)?\("
)
_CALLED = re.compile(r"\b(?:body|condition|calls|to_apply)=%?([\w.\-]+)")
_BRANCHES = re.compile(r"branch_computations=\{([^}]*)\}")


def _computations(hlo: str) -> dict[str, str]:
    """Each computation of an HLO module's text, by name."""
    found, name, lines = {}, None, []
    for line in hlo.splitlines():
        header = re.match(r"^(?:ENTRY\s+)?%?([\w.\-]+)\s.*\{\s*$", line)
        if name is None and header:
            name, lines = header.group(1), []
        elif name is not None and line.strip() == "}":
            found[name] = "\n".join(lines)
            name = None
        elif name is not None:
            lines.append(line)
    return found


def collectives_inside_loops(hlo: str) -> set[str]:
    """The collective operations in every computation a `while` body reaches (its fusions,
    reductions and nested loops included)."""
    computations = _computations(hlo)
    stack = [
        m.group(1)
        for text in computations.values()
        for m in re.finditer(r"\bbody=%?([\w.\-]+)", text)
    ]
    seen, ops = set(), set()
    while stack:
        name = stack.pop()
        if name in seen or name not in computations:
            continue
        seen.add(name)
        text = computations[name]
        ops |= {m.group(1) for m in _COLLECTIVE.finditer(text)}
        stack += _CALLED.findall(text)
        for group in _BRANCHES.findall(text):
            stack += [b.strip().lstrip("%") for b in group.split(",")]
    assert seen, "the module has no while loop"
    return ops


def _izhikevich_batch(model, stimulus):
    return scjax.simulate_batch(
        model, stimulus, 0.25, n_steps=200, spikes="count", save_every=200, key=jax.random.key(3)
    )


@pytest.fixture(scope="module")
def sharded_batch():
    if len(jax.devices()) < 2:
        pytest.skip(f"needs 2 devices, found {len(jax.devices())}")
    batch = 8
    stimulus = scjax.stimulus.Constant(
        jnp.linspace(4.0, 14.0, batch)
    ) + scjax.stimulus.OrnsteinUhlenbeck(mean=0.0, std=jnp.linspace(0.5, 3.0, batch), tau=2.0)
    inputs = (scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, batch)), stimulus)
    run = jax.jit(_izhikevich_batch)
    sharded = scjax.shard_batch(inputs)
    return run, inputs, sharded


def test_sharded_simulate_batch_equals_unsharded_and_stays_sharded(sharded_batch):
    run, inputs, sharded = sharded_batch
    out = run(*sharded)
    assert len(out.spike_count.sharding.device_set) == len(jax.devices())
    assert not out.spike_count.sharding.is_fully_replicated
    whole = run(*inputs)
    assert np.asarray(whole.spike_count).max() > np.asarray(whole.spike_count).min()
    host = scjax.gather(out)
    assert isinstance(host.spike_count, np.ndarray)
    np.testing.assert_array_equal(host.spike_count, np.asarray(whole.spike_count))
    np.testing.assert_array_equal(host.y, np.asarray(whole.y))


def test_no_collective_inside_the_sharded_loop(sharded_batch):
    run, _, sharded = sharded_batch
    hlo = run.lower(*sharded).compile().as_text()
    assert collectives_inside_loops(hlo) == set()


def test_the_loop_check_sees_a_collective_in_a_loop_body():
    """The HLO check itself: a loop that sums over a sharded batch each step needs an
    all-reduce inside its body."""
    if len(jax.devices()) < 2:
        pytest.skip(f"needs 2 devices, found {len(jax.devices())}")

    def coupled(x):
        def step(c, _):
            return c * 0.5 + jnp.sum(x * c), None

        return jax.lax.scan(step, x, None, length=10)[0]

    hlo = jax.jit(coupled).lower(scjax.shard_batch(jnp.arange(8.0))).compile().as_text()
    assert "all-reduce" in collectives_inside_loops(hlo)


def _explicit_case():
    from jax.sharding import AxisType, NamedSharding, PartitionSpec

    if len(jax.devices()) < 2:
        pytest.skip(f"needs 2 devices, found {len(jax.devices())}")
    mesh = jax.make_mesh((2,), ("batch",), axis_types=(AxisType.Explicit,))
    n = 10
    model = scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, n), d=jnp.linspace(2.0, 8.0, n))
    stimulus = scjax.stimulus.Constant(jnp.linspace(3.0, 14.0, n)) + scjax.stimulus.WhiteNoise(
        std=2.0
    )
    split = NamedSharding(mesh, PartitionSpec("batch"))
    placed = jax.tree.map(
        lambda x: jax.device_put(x, split) if jnp.ndim(x) == 1 else x, (model, stimulus)
    )
    return mesh, (model, stimulus), placed


def test_explicit_batch_axes_finds_explicit_meshes_only():
    from scjax._sharding import explicit_batch_axes

    mesh, unplaced, placed = _explicit_case()
    found = explicit_batch_axes(placed)
    assert found is not None and found[1] == "batch"
    assert tuple(found[0].axis_names) == ("batch",)
    assert explicit_batch_axes(unplaced) is None
    assert explicit_batch_axes(scjax.shard_batch(unplaced)) is None  # automatic axes


@pytest.mark.parametrize("loop", ["xla", "pallas"])
@pytest.mark.parametrize("context", ["eager", "jit", "set_mesh"])
def test_a_batch_on_explicit_axes_equals_the_unsharded_run(loop, context):
    # Sharding in types: the loop's own code indexes and selects across the batch, which
    # explicit axes refuse (ShardingTypeError) unless simulate_batch makes them automatic.
    from scjax.simulation import PallasLoop

    mesh, (model, stimulus), placed = _explicit_case()
    options = dict(n_steps=120, save_every=40, spikes="count", key=jax.random.key(5))
    kernel = PallasLoop(block_size=4, interpret=True)
    run_loop = kernel if loop == "pallas" else "xla"

    def run(m, s):
        return scjax.simulate_batch(m, s, 0.5, loop=run_loop, **options)

    expected = scjax.simulate_batch(model, stimulus, 0.5, **options)
    if context == "set_mesh":
        with jax.set_mesh(mesh):
            got = jax.jit(run)(*placed)
    else:
        got = (jax.jit(run) if context == "jit" else run)(*placed)
    assert np.asarray(expected.spike_count).min() < np.asarray(expected.spike_count).max()
    for field in ("spike_count", "y", "diverged"):
        np.testing.assert_array_equal(getattr(got, field), getattr(expected, field), field)
    assert got.spike_count.sharding.spec[0] == "batch"
    assert got.y.sharding.spec[0] == "batch"
