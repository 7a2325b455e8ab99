"""simulate_batch(loop="blocked"): the cache-blocked loop equals the XLA loop bit for bit.

The tests run without fused multiply-adds (conftest: --xla_cpu_max_isa=AVX), where the blocked
program performs the XLA loop's arithmetic exactly. Blocks of 8 neurons and B = 37 exercise
several blocks, the padding of each device's last block and (with shard_batch over the 2 host
devices of conftest) blocks within each device's own neurons.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax.simulation import BlockedLoop
from scjax.simulation._blocked import block_layout

from .helpers import assert_counts_spread, assert_trajectories_identical

B = 37  # 5 blocks of 8 neurons: 3 of padding
LOOP = BlockedLoop(block_size=8)


def _both(model, drive, dt, **kwargs):
    xla = scjax.simulate_batch(model, drive, dt, **kwargs)
    blocked = scjax.simulate_batch(model, drive, dt, loop=LOOP, **kwargs)
    assert_trajectories_identical(xla, blocked)
    return xla


@pytest.mark.parametrize(
    "recording",
    [
        dict(spikes="count", save_every=200),
        dict(spikes="raster", save_every=1),
        dict(spikes="times", max_spikes=4, save_every=50),  # overflows: 4 < most counts
    ],
    ids=["count", "raster", "times"],
)
def test_izhikevich_per_neuron_parameters_and_stimulus(recording):
    model = scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, B), d=jnp.linspace(2.0, 8.0, B))
    stimulus = scjax.stimulus.Constant(jnp.linspace(4.0, 14.0, B))
    xla = _both(model, stimulus, 0.5, n_steps=200, **recording)
    assert_counts_spread(xla.spike_count)
    if recording["spikes"] == "times":
        blocked = scjax.simulate_batch(model, stimulus, 0.5, n_steps=200, loop=LOOP, **recording)
        np.testing.assert_array_equal(blocked.spike_overflow, xla.spike_overflow)
        assert np.asarray(xla.spike_overflow).any()


def test_stochastic_stimulus_keeps_each_neurons_key():
    # Each neuron draws from split(key, B)[i] of the whole batch, not of its block.
    stimulus = scjax.stimulus.Constant(jnp.linspace(5.0, 10.0, B)) + (
        scjax.stimulus.OrnsteinUhlenbeck(0.0, 3.0, 5.0)
    )
    model = scjax.Izhikevich.preset("RS")
    xla = _both(model, stimulus, 0.5, n_steps=300, key=jax.random.key(7), spikes="count")
    assert_counts_spread(xla.spike_count)


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_hodgkin_huxley_rk4_dense_current_and_y0(dtype):
    model = scjax.HodgkinHuxley(integrator="rk4", g_na=jnp.linspace(100.0, 140.0, B, dtype=dtype))
    current = jnp.linspace(5.0, 15.0, B, dtype=dtype)[:, None] + jnp.zeros((1, 1000), dtype)
    y0 = jnp.broadcast_to(model.initial_state().astype(dtype), (B, 4))
    y0 = y0.at[:, 0].add(jnp.linspace(0.0, 5.0, B, dtype=dtype))
    xla = _both(model, current, 0.05, y0=y0, save_every=250, spikes="count")
    assert xla.y.dtype == dtype
    assert_counts_spread(xla.spike_count)


def test_sharded_batch_blocks_within_each_device():
    assert len(jax.devices()) == 2  # conftest's host devices
    amplitude = scjax.shard_batch(jnp.linspace(4.0, 14.0, 36))  # 18 neurons per device
    model = scjax.Izhikevich.preset("RS")
    xla = _both(model, scjax.stimulus.Constant(amplitude), 0.5, n_steps=200, spikes="count")
    assert_counts_spread(xla.spike_count)
    blocked = scjax.simulate_batch(
        model, scjax.stimulus.Constant(amplitude), 0.5, n_steps=200, spikes="count", loop=LOOP
    )
    assert len(blocked.spike_count.sharding.device_set) == 2  # results stay sharded


def test_in_step_events():
    model = scjax.Izhikevich(d=jnp.linspace(2.0, 8.0, B))
    xla = _both(model, jnp.full(200, 10.0), 0.5, events="in_step", spikes="times", max_spikes=8)
    assert_counts_spread(xla.spike_count)


def test_polynomial_expm1_runs_blocked():
    model = scjax.HodgkinHuxley(integrator="rk4")
    stimulus = scjax.stimulus.Constant(jnp.linspace(5.0, 15.0, B))
    _both(model, stimulus, 0.01, n_steps=300, spikes="count", expm1="polynomial")


def test_surrogate_gradient_equals_xla_loop():
    current = jnp.full(300, 800.0)

    def loss(b, loop):
        model = scjax.AdEx(b=b, v_peak=-40.4)
        trajectory = scjax.simulate_batch(
            model, current, 0.1, surrogate=scjax.SigmoidSurrogate(0.5), loop=loop
        )
        return trajectory.spike_signal.sum() + trajectory.y[:, -1, 0].sum()

    b = jnp.linspace(60.0, 120.0, 11)
    np.testing.assert_array_equal(
        np.asarray(jax.grad(loss)(b, BlockedLoop(4))), np.asarray(jax.grad(loss)(b, "xla"))
    )


def test_under_jit_with_traced_parameters():
    model = scjax.Izhikevich.preset("RS")

    @jax.jit
    def counts(amplitude):
        stimulus = scjax.stimulus.Constant(amplitude)
        kwargs = dict(n_steps=200, spikes="count", save_every=200)
        blocked = scjax.simulate_batch(model, stimulus, 0.5, loop=LOOP, **kwargs)
        return blocked.spike_count, scjax.simulate_batch(model, stimulus, 0.5, **kwargs).spike_count

    blocked, xla = counts(jnp.linspace(4.0, 14.0, B))
    np.testing.assert_array_equal(blocked, xla)
    assert_counts_spread(xla)


def test_divergence_is_raised_for_the_whole_batch():
    # Euler on HH at dt = 0.5 ms overflows; two neurons of the third block diverge.
    current = jnp.zeros((B, 100)).at[17:19].set(1e6)
    model = scjax.HodgkinHuxley()
    with pytest.raises(Exception, match="the state became non-finite"):
        scjax.simulate_batch(model, current, 0.05, loop=LOOP, check_step=False)
    xla = _both(model, current, 0.05, throw=False, check_step=False)
    np.testing.assert_array_equal(np.flatnonzero(np.asarray(xla.diverged)), [17, 18])


def test_block_layout():
    # (devices, blocks per device, neurons per block of each device)
    assert block_layout(37, 8, 1) == (1, 5, 8)
    assert block_layout(100_000, 8192, 2) == (2, 7, 7144)  # 50 000 → 7 × 7143, to 8 lanes
    assert block_layout(37, 8, 2) == (1, 5, 8)  # not a multiple of the devices: one row
    assert block_layout(5, 8192, 1) == (1, 1, 5)  # one block: the XLA loop itself


@pytest.mark.parametrize(
    "loop, message",
    [
        (BlockedLoop(0), "loop.block_size must be a positive int, got 0"),
        (BlockedLoop(2.5), "loop.block_size must be a positive int"),  # type: ignore[arg-type]
        ("blockwise", "loop must be one of"),
    ],
)
def test_bad_options_are_refused(loop, message):
    with pytest.raises(ValueError, match=message):
        scjax.simulate_batch(scjax.Izhikevich.preset("RS"), jnp.full((3, 10), 5.0), 0.5, loop=loop)


def test_legacy_uint32_key():
    stimulus = scjax.stimulus.WhiteNoise(jnp.linspace(5.0, 10.0, B), 2.0)
    model = scjax.Izhikevich.preset("RS")
    xla = _both(model, stimulus, 0.5, n_steps=200, key=jax.random.PRNGKey(3), spikes="count")
    assert_counts_spread(xla.spike_count)


def test_auto_takes_the_blocked_loop_on_cpu_when_called_on_values(monkeypatch):
    from scjax.simulation import _simulate

    taken, run_blocked_loop = [], _simulate.run_blocked_loop

    def recording_blocked_loop(options, n_devices, *args, **kwargs):
        taken.append((options, n_devices))
        return run_blocked_loop(options, n_devices, *args, **kwargs)

    monkeypatch.setattr(_simulate, "run_blocked_loop", recording_blocked_loop)
    assert jax.default_backend() == "cpu"
    model = scjax.Izhikevich.preset("RS")
    amplitude = scjax.shard_batch(jnp.linspace(4.0, 14.0, 36))
    stimulus = scjax.stimulus.Constant(amplitude)
    kwargs = dict(n_steps=100, spikes="count", save_every=100)
    auto = scjax.simulate_batch(model, stimulus, 0.5, loop="auto", **kwargs)
    assert taken == [(BlockedLoop(), 2)]  # the default blocks, the batch's 2 devices
    xla = scjax.simulate_batch(model, stimulus, 0.5, **kwargs)
    assert len(taken) == 1  # the default stays the XLA loop
    assert_trajectories_identical(xla, auto)
    # Under a transformation the devices are unknown: the XLA loop.
    jax.jit(
        lambda a: (
            scjax.simulate_batch(
                model, scjax.stimulus.Constant(a), 0.5, loop="auto", **kwargs
            ).spike_count
        )
    )(amplitude)
    assert len(taken) == 1


def test_chunks_of_blocks():
    # chunk_size streams chunks from the host; each chunk runs blocked, with its neurons' keys.
    stimulus = scjax.stimulus.WhiteNoise(jnp.linspace(5.0, 10.0, B), 2.0)
    model = scjax.Izhikevich.preset("RS")
    kwargs = dict(n_steps=200, spikes="count", save_every=200, key=jax.random.key(5))
    xla = scjax.simulate_batch(model, stimulus, 0.5, **kwargs)
    chunked = scjax.simulate_batch(model, stimulus, 0.5, chunk_size=20, loop=LOOP, **kwargs)
    np.testing.assert_array_equal(chunked.spike_count, xla.spike_count)
    np.testing.assert_array_equal(chunked.y, xla.y)
    assert_counts_spread(xla.spike_count)
