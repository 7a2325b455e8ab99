"""simulate: known firing behaviour, gradients, batching, noise and the input contract."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scjax

# --- known behaviour ------------------------------------------------------------------------


def _isis(tr):
    return np.diff(tr.spike_times())


def test_izhikevich_rs_tonic_and_ib_bursting_at_10():
    current = jnp.full(10_000, 10.0)  # 1 s at dt = 0.1 ms
    rs = scjax.simulate(scjax.Izhikevich.preset("RS"), current, 0.1)
    ib = scjax.simulate(scjax.Izhikevich.preset("IB"), current, 0.1)
    rs_isi = _isis(rs)[3:]  # after the initial adaptation
    assert len(rs_isi) >= 5
    assert np.std(rs_isi) / np.mean(rs_isi) < 0.05  # tonic: regular intervals
    ib_isi = _isis(ib)
    # IB: an initial burst (several spikes within a few ms), then slower tonic spikes.
    assert np.sum(ib_isi[:5] < 10.0) >= 2
    assert np.median(ib_isi[5:]) > 3 * np.min(ib_isi)


@pytest.fixture(scope="module")
def hh_sweep():
    """HH (default Euler, dt 0.01) over 200 ms for currents 0, 0.25, ..., 12."""
    currents = jnp.arange(0.0, 12.01, 0.25)
    run = jax.vmap(
        lambda i: scjax.simulate(scjax.HodgkinHuxley(), jnp.full(20_000, i), 0.01).spikes
    )
    return np.asarray(currents), np.asarray(run(currents))


def test_hh_repetitive_at_10_silent_at_2(hh_sweep):
    currents, spikes = hh_sweep
    late = spikes[:, 10_000:].sum(axis=1)  # spikes in the last 100 ms
    assert late[np.isclose(currents, 10.0)][0] >= 5
    assert spikes[np.isclose(currents, 2.0)][0].sum() == 0


def test_hh_rheobase_for_sustained_firing(hh_sweep):
    currents, spikes = hh_sweep
    sustained = spikes[:, 10_000:].sum(axis=1) >= 3
    rheobase = currents[np.argmax(sustained)]
    assert np.all(sustained[currents >= rheobase])
    assert 5.5 <= rheobase <= 7.5, rheobase


# --- gradients --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["g_na", "g_k", "c_m"])
def test_hh_rk4_gradient_matches_central_differences(field):
    current = jnp.full(2000, 10.0)
    base = scjax.HodgkinHuxley(integrator="rk4")

    def loss(p):
        model = scjax.HodgkinHuxley(**{**base.params(), field: p}, integrator="rk4")
        return scjax.simulate(model, current, 0.01).y[:, 0].mean()

    p0 = getattr(base, field)
    grad = float(jax.grad(loss)(p0))
    h = 1e-4 * abs(p0)
    fd = (float(loss(p0 + h)) - float(loss(p0 - h))) / (2 * h)
    assert grad == pytest.approx(fd, rel=1e-5)


def test_rosenbrock_gradient_uses_second_derivatives():
    # J is not stop_gradient-ed: the gradient matches finite differences.
    current = jnp.full(500, 10.0)

    def loss(g_k):
        model = scjax.HodgkinHuxley(g_k=g_k, integrator="rosenbrock2")
        return scjax.simulate(model, current, 0.02).y[:, 0].mean()

    grad = float(jax.grad(loss)(36.0))
    fd = (float(loss(36.0 + 1e-3)) - float(loss(36.0 - 1e-3))) / 2e-3
    assert grad == pytest.approx(fd, rel=1e-5)


def test_user_example_gradient_is_finite():
    current = jnp.full(1000, 10.0)
    g = jax.grad(
        lambda gna: scjax.simulate(scjax.HodgkinHuxley(g_na=gna), current, 0.01).y[:, 0].mean()
    )(120.0)
    assert np.isfinite(float(g)) and float(g) != 0.0


# --- batching ---------------------------------------------------------------------------------


def test_vmap_over_64_parameter_sets_equals_separate_runs():
    current = jnp.full(1000, 10.0)
    a_values = jnp.linspace(0.01, 0.1, 64)
    batch = jax.vmap(lambda a: scjax.simulate(scjax.Izhikevich(a=a), current, 0.1).y)(a_values)
    assert batch.shape == (64, 1001, 2)
    for i, a in enumerate(np.asarray(a_values)):
        single = scjax.simulate(scjax.Izhikevich(a=float(a)), current, 0.1).y
        np.testing.assert_array_equal(np.asarray(batch[i]), np.asarray(single))


def test_vmap_over_currents_hh():
    currents = jnp.stack([jnp.full(500, i) for i in (0.0, 5.0, 10.0, 15.0)])
    batch = jax.vmap(lambda c: scjax.simulate(scjax.HodgkinHuxley(integrator="rk4"), c, 0.02).y)(
        currents
    )
    for i in range(4):
        single = scjax.simulate(scjax.HodgkinHuxley(integrator="rk4"), currents[i], 0.02).y
        np.testing.assert_array_equal(np.asarray(batch[i]), np.asarray(single))


# --- noise --------------------------------------------------------------------------------------


def test_noise_is_reproducible_and_needs_a_key(getkey):
    model = scjax.Izhikevich(noise_std=5.0)
    current = jnp.full(2000, 5.0)
    with pytest.raises(ValueError, match="key"):
        scjax.simulate(model, current, 0.1)
    key = getkey()
    a = scjax.simulate(model, current, 0.1, key=key)
    b = scjax.simulate(model, current, 0.1, key=key)
    c = scjax.simulate(model, current, 0.1, key=getkey())
    np.testing.assert_array_equal(np.asarray(a.y), np.asarray(b.y))
    assert not np.array_equal(np.asarray(a.y), np.asarray(c.y))
    # The noise is N(0, noise_std²) per current sample: the same draw replayed by hand gives
    # the same trajectory without noise.
    noise = 5.0 * jax.random.normal(key, current.shape, current.dtype)
    replay = scjax.simulate(scjax.Izhikevich(), current + noise, 0.1)
    np.testing.assert_array_equal(np.asarray(a.y), np.asarray(replay.y))


# --- trajectory -------------------------------------------------------------------------------


def test_trajectory_schema():
    tr = scjax.simulate(scjax.HodgkinHuxley(), jnp.full(300, 10.0), 0.05, t0=5.0)
    assert tr.state_names == ("v", "m", "h", "n")
    assert tr.t.shape == (301,) and tr.y.shape == (301, 4) and tr.spikes.shape == (300,)
    assert tr.spikes.dtype == jnp.bool_
    np.testing.assert_allclose(np.asarray(tr.t), 5.0 + 0.05 * np.arange(301), rtol=1e-14)
    np.testing.assert_array_equal(np.asarray(tr.state("h")), np.asarray(tr.y[:, 2]))
    assert tr.spike_signal is None  # no float copy of the raster without a surrogate
    np.testing.assert_array_equal(np.asarray(tr.as_spike_signal()), np.asarray(tr.spikes, float))
    # Spike times: the end of each step that crossed 0 mV upwards.
    v = np.asarray(tr.v)
    crossings = np.flatnonzero((v[:-1] < 0) & (v[1:] >= 0))
    np.testing.assert_allclose(tr.spike_times(), 5.0 + 0.05 * (crossings + 1))
    assert not bool(tr.diverged)
    with pytest.raises(ValueError, match="name"):
        tr.state("q")


def test_float32_current_gives_float32_run():
    tr = scjax.simulate(scjax.HodgkinHuxley(), jnp.full(100, 10.0, dtype=jnp.float32), 0.01)
    assert tr.y.dtype == jnp.float32 and tr.t.dtype == jnp.float32


# --- input contract ---------------------------------------------------------------------------

bad_dt = st.one_of(
    st.floats(max_value=0.0),
    st.sampled_from([float("nan"), float("inf"), -float("inf")]),
)


@settings(max_examples=25, deadline=None)
@given(dt=bad_dt)
def test_bad_dt_is_rejected(dt):
    with pytest.raises(ValueError, match="dt"):
        scjax.simulate(scjax.LIF(), jnp.ones(10), dt)


def test_dt_must_be_a_scalar():
    with pytest.raises(ValueError, match="dt"):
        scjax.simulate(scjax.LIF(), jnp.ones(10), jnp.array([0.1, 0.1]))


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 50),
    index=st.integers(0, 49),
    bad=st.sampled_from([float("nan"), float("inf"), -float("inf")]),
)
def test_non_finite_current_is_rejected(n, index, bad):
    current = np.ones(n)
    current[index % n] = bad
    with pytest.raises(ValueError, match="current"):
        scjax.simulate(scjax.LIF(), current, 0.1)


@pytest.mark.parametrize(
    "current", [np.ones(0), np.ones((3, 4)), np.float64(1.0), np.array(["a", "b"])]
)
def test_malformed_current_is_rejected(current):
    with pytest.raises(ValueError, match="current"):
        scjax.simulate(scjax.LIF(), current, 0.1)


@pytest.mark.parametrize("field", ["a", "b", "c", "d", "v_peak"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_parameters_are_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        scjax.Izhikevich(**{field: value})


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="noise_std"):
        scjax.Izhikevich(noise_std=-1.0)
    with pytest.raises(ValueError, match="g_na"):
        scjax.HodgkinHuxley(g_na=float("nan"))
    with pytest.raises(ValueError, match="tau_w"):
        scjax.AdEx(tau_w=0.0)
    with pytest.raises(ValueError, match="y0"):
        scjax.simulate(scjax.HodgkinHuxley(), jnp.ones(10), 0.1, y0=jnp.zeros(3))
    with pytest.raises(ValueError, match="y0"):
        scjax.simulate(
            scjax.HodgkinHuxley(), jnp.ones(10), 0.1, y0=jnp.array([jnp.nan, 0.0, 0.0, 0.0])
        )
    with pytest.raises(ValueError, match="model"):
        scjax.simulate("hh", jnp.ones(10), 0.1)
    with pytest.raises(ValueError, match="solver"):
        scjax.simulate(scjax.LIF(), jnp.ones(10), 0.1, solver="rk4")
    with pytest.raises(ValueError, match="name"):
        scjax.Izhikevich.preset("XX")


def test_traced_inputs_are_checked_at_run_time():
    run = jax.jit(lambda dt, c: scjax.simulate(scjax.LIF(), c, dt).y)
    assert np.all(np.isfinite(np.asarray(run(0.1, jnp.ones(10)))))
    with pytest.raises(Exception, match="dt must be positive"):
        run(-0.1, jnp.ones(10)).block_until_ready()
    with pytest.raises(Exception, match="current must be finite"):
        run(0.1, jnp.ones(10).at[3].set(jnp.nan)).block_until_ready()


def test_save_every_subsamples_the_same_trajectory():
    current = jnp.full(1000, 10.0)
    full = scjax.simulate(scjax.Izhikevich(), current, 0.1)
    sparse = scjax.simulate(scjax.Izhikevich(), current, 0.1, save_every=50)
    assert sparse.y.shape == (21, 2) and sparse.t.shape == (21,)
    np.testing.assert_array_equal(np.asarray(sparse.y), np.asarray(full.y[::50]))
    np.testing.assert_array_equal(np.asarray(sparse.t), np.asarray(full.t[::50]))
    np.testing.assert_array_equal(np.asarray(sparse.spikes), np.asarray(full.spikes))
    np.testing.assert_allclose(sparse.spike_times(), full.spike_times(), rtol=1e-12)
    final = scjax.simulate(scjax.Izhikevich(), current, 0.1, save_every=1000)
    np.testing.assert_array_equal(np.asarray(final.y[-1]), np.asarray(full.y[-1]))
    for bad in (0, 3, 1.5):
        with pytest.raises(ValueError, match="save_every"):
            scjax.simulate(scjax.Izhikevich(), current, 0.1, save_every=bad)


def test_discrete_time_models_need_their_own_dt_and_euler():
    model = scjax.models.FixedPointLIF(dt=0.1)
    scjax.simulate(model, jnp.full(10, 20.0), 0.1)
    with pytest.raises(ValueError, match="dt"):
        scjax.simulate(model, jnp.full(10, 20.0), 0.05)
    with pytest.raises(ValueError, match="solver"):
        scjax.simulate(model, jnp.full(10, 20.0), 0.1, solver=scjax.solvers.RK4())


def test_overflow_hidden_by_a_reset_is_reported():
    # Izhikevich with Euler at dt = 100 ms under a huge current: v overflows to inf within a
    # step and the reset would set v = c, a finite state. The loop keeps NaN instead.
    model = scjax.Izhikevich.preset("RS", integrator="euler")
    tr = scjax.simulate(model, jnp.full(200, 1e307), 100.0, throw=False)
    v = np.asarray(tr.v)
    assert np.isnan(v[1]) and np.isnan(v[-1])
    assert bool(tr.diverged)
    ok = scjax.simulate(model, jnp.full(200, 40.0), 1.0, throw=False)
    assert not bool(ok.diverged)


def test_large_t0_in_float32_is_refused():
    with pytest.raises(ValueError, match="overflows float32"):
        scjax.simulate(scjax.LIF(), jnp.full(10, 1.0, jnp.float32), 1e38, t0=3e38)


def test_loop_compiled_alone_equals_the_loop_inside_a_transformation():
    # Called on values, the loop is compiled as its own program with its CPU options
    # (xla_cpu_prefer_vector_width); under jit (traced or closed-over inputs), vmap and grad
    # it is staged into the outer program without them. The numbers are the same.
    model = scjax.Izhikevich.preset("CH")
    current = jnp.asarray(np.linspace(5.0, 15.0, 600))
    alone = scjax.simulate(model, current, 0.5)
    assert int(alone.spike_count) > 10
    traced = jax.jit(lambda i: scjax.simulate(model, i, 0.5))(current)
    closed = jax.jit(lambda: scjax.simulate(model, current, 0.5))()
    vmapped = jax.vmap(lambda i: scjax.simulate(model, i, 0.5))(current[None])
    for tr in (traced, closed):
        np.testing.assert_array_equal(np.asarray(tr.y), np.asarray(alone.y))
        np.testing.assert_array_equal(np.asarray(tr.spikes), np.asarray(alone.spikes))
    np.testing.assert_array_equal(np.asarray(vmapped.y[0]), np.asarray(alone.y))

    def mean_v(b):  # sub-threshold (I = 2): smooth in b; the gradient against a difference
        quiet = eqx.tree_at(lambda m: m.b, model, b)
        return jnp.mean(scjax.simulate(quiet, jnp.full(400, 2.0), 0.5).y[:, 0])

    b, h = 0.2, 1e-5
    difference = (float(mean_v(b + h)) - float(mean_v(b - h))) / (2 * h)
    assert float(jax.grad(mean_v)(jnp.asarray(b))) == pytest.approx(difference, rel=1e-6)
