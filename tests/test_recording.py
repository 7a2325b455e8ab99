"""Recording options: every reduced recording equals the full recording reduced afterwards."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax import stimulus as st

DT, N_STEPS = 0.1, 2000
AMPS = jnp.array([6.0, 9.0, 12.0, 15.0])  # Izhikevich RS: 0 to ~10 spikes in 200 ms


@pytest.fixture(scope="module")
def full():
    return scjax.simulate_batch(
        scjax.Izhikevich.preset("RS"), st.Constant(AMPS), DT, n_steps=N_STEPS
    )


def _run(**kwargs):
    return scjax.simulate_batch(
        scjax.Izhikevich.preset("RS"), st.Constant(AMPS), DT, n_steps=N_STEPS, **kwargs
    )


def test_count_equals_raster_sum(full):
    tr = _run(spikes="count", save_every=N_STEPS)
    assert tr.spikes is None and tr.spike_signal is None
    np.testing.assert_array_equal(np.asarray(tr.spike_count), np.asarray(full.spikes).sum(-1))
    assert np.asarray(full.spikes).sum() > 10
    np.testing.assert_array_equal(np.asarray(tr.y[:, -1]), np.asarray(full.y[:, -1]))
    assert tr.y.shape == (4, 2, 2)


def test_times_equal_raster_times(full):
    tr = _run(spikes="times", max_spikes=32)
    assert tr.spikes is None and not np.any(np.asarray(tr.spike_overflow))
    for i in range(4):
        expected = jax.tree.map(lambda x, i=i: x[i], full).spike_times()
        got = np.asarray(tr.spike_time_buffer[i])
        np.testing.assert_array_equal(got[: len(expected)], expected)
        assert np.all(np.isposinf(got[len(expected) :]))
        np.testing.assert_array_equal(jax.tree.map(lambda x, i=i: x[i], tr).spike_times(), expected)


def test_times_overflow_keeps_the_first_and_counts_all(full):
    tr = _run(spikes="times", max_spikes=2)
    counts = np.asarray(full.spikes).sum(-1)
    np.testing.assert_array_equal(np.asarray(tr.spike_count), counts)
    np.testing.assert_array_equal(np.asarray(tr.spike_overflow), counts > 2)
    first = jax.tree.map(lambda x: x[-1], full).spike_times()[:2]
    np.testing.assert_array_equal(np.asarray(tr.spike_time_buffer[-1]), first)


def test_record_subset_and_save_every(full):
    tr = _run(record=("u",), save_every=100)
    assert tr.state_names == ("u",) and tr.y.shape == (4, N_STEPS // 100 + 1, 1)
    np.testing.assert_array_equal(np.asarray(tr.y[..., 0]), np.asarray(full.y[:, ::100, 1]))
    np.testing.assert_array_equal(np.asarray(tr.t), np.asarray(full.t[:, ::100]))
    np.testing.assert_array_equal(np.asarray(tr.spikes), np.asarray(full.spikes))


def test_single_neuron_recordings():
    model, current = scjax.LIF(), jnp.full(1000, 20.0)
    full = scjax.simulate(model, current, DT)
    count = scjax.simulate(model, current, DT, spikes="count")
    times = scjax.simulate(model, current, DT, spikes="times", max_spikes=16)
    assert int(count.spike_count) == int(np.asarray(full.spikes).sum()) >= 3
    np.testing.assert_array_equal(times.spike_times(), full.spike_times())


def test_surrogate_count_has_the_raster_gradient():
    current = jnp.full(600, 800.0)

    def count(b, mode):
        tr = scjax.simulate(scjax.AdEx(b=b), current, 0.05, surrogate="sigmoid", spikes=mode)
        return tr.spike_count if mode == "count" else tr.spike_signal.sum()

    np.testing.assert_allclose(float(count(60.0, "count")), float(count(60.0, "raster")))
    g_count, g_raster = jax.grad(count)(60.0, "count"), jax.grad(count)(60.0, "raster")
    assert float(g_raster) != 0.0
    np.testing.assert_allclose(float(g_count), float(g_raster), rtol=1e-12)


def _temp_bytes(n_steps: int, spikes: str) -> int:
    """XLA's temporary buffer size for one compiled counts-only batch run."""
    from scjax.simulation._loop import run_loop
    from scjax.simulation._recording import Recording

    model = scjax.Izhikevich.preset("RS")
    model = jax.tree.map(lambda p: jnp.asarray(p, jnp.float64), model)
    solver = scjax.solvers.HalfEuler(fast_mask=model.fast_mask)
    batch = 1000
    y0 = jnp.broadcast_to(model.initial_state(), (batch, 2))
    drive = st.Constant(jnp.linspace(5.0, 15.0, batch))
    rec = Recording(spikes, (0, 1), n_steps, 8)
    axes = jax.tree.map(lambda _: None, model)

    def run(drive, y0):
        return run_loop(
            model,
            solver,
            drive,
            jnp.asarray(0.5),
            y0,
            jnp.asarray(0.0),
            None,
            n_steps,
            rec,
            False,
            None,
            axes,
            drive.batch_axes(),
        )

    compiled = jax.jit(run).lower(drive, y0).compile()
    return compiled.memory_analysis().temp_size_in_bytes


def test_counts_only_memory_does_not_grow_with_steps():
    # A raster grows with T; counts and the final state do not.
    short, long = _temp_bytes(1_000, "count"), _temp_bytes(100_000, "count")
    assert long <= short * 1.01 + 4096, (short, long)
    assert _temp_bytes(10_000, "raster") > 10_000 * 1000  # the bool raster: 1 B/neuron-step


def test_bad_recording_arguments():
    model, current = scjax.LIF(), jnp.full(100, 20.0)
    with pytest.raises(ValueError, match="spikes must be one of"):
        scjax.simulate(model, current, DT, spikes="all")
    with pytest.raises(ValueError, match="record must name distinct states"):
        scjax.simulate(model, current, DT, record=("w",))
    with pytest.raises(ValueError, match="max_spikes must be a positive int"):
        scjax.simulate(model, current, DT, spikes="times", max_spikes=0)
    with pytest.raises(ValueError, match="save_every must be a positive int dividing"):
        scjax.simulate(model, current, DT, save_every=7)
    with pytest.raises(ValueError, match="spikes='raster' or 'times'"):
        scjax.simulate(model, current, DT, spikes="count").spike_times()
