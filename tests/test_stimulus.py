"""Stimuli evaluated inside the loop equal the same currents sampled by NumPy beforehand."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax import stimulus as st

DT, T0, N_STEPS = 0.1, 2.0, 400
T_N = T0 + DT * np.arange(N_STEPS)  # left end of each step, as the loop computes it


def _samples(stimulus, n_steps=N_STEPS, dt=DT, t0=T0, key=None):
    """The stimulus's samples, read with `sample` step by step (the loop's own calls)."""
    state = stimulus.init(key, jnp.asarray(dt))
    ts = t0 + dt * jnp.arange(n_steps + 1, dtype=jnp.float64)

    def body(state, xs):
        n, t = xs
        value, state = stimulus.sample(n, t, jnp.asarray(dt), state)
        return state, value

    return np.asarray(jax.lax.scan(body, state, (jnp.arange(n_steps), ts[:-1]))[1])


@pytest.mark.parametrize(
    "stimulus, numpy_current",
    [
        (st.Constant(7.5), lambda t: np.full_like(t, 7.5)),
        (
            st.Pulse(onset=10.0, duration=15.0, amplitude=12.0),
            lambda t: np.where((t >= 10.0) & (t < 25.0), 12.0, 0.0),
        ),
        (st.Step(onset=20.0, amplitude=-3.0), lambda t: np.where(t >= 20.0, -3.0, 0.0)),
        (st.Ramp(onset=5.0, duration=20.0, slope=0.5), lambda t: 0.5 * np.clip(t - 5.0, 0.0, 20.0)),
        (
            st.Sine(amplitude=4.0, frequency=40.0, phase=0.3, offset=6.0),
            lambda t: 6.0 + 4.0 * np.sin(2 * np.pi * 40.0 * t / 1000.0 + 0.3),
        ),
    ],
)
def test_deterministic_samples_match_numpy(stimulus, numpy_current):
    np.testing.assert_allclose(_samples(stimulus), numpy_current(T_N), rtol=1e-14, atol=1e-14)


def test_stimulus_run_equals_dense_run_bitwise():
    stimulus = st.Constant(8.0) + st.Pulse(onset=10.0, duration=15.0, amplitude=4.0)
    model = scjax.Izhikevich.preset("RS")
    a = scjax.simulate(model, stimulus, DT, t0=T0, n_steps=N_STEPS)
    b = scjax.simulate(model, jnp.asarray(_samples(stimulus)), DT, t0=T0)
    np.testing.assert_array_equal(np.asarray(a.y), np.asarray(b.y))
    np.testing.assert_array_equal(np.asarray(a.spikes), np.asarray(b.spikes))
    assert int(a.spike_count) >= 2


def test_sampled_stimulus_and_sums():
    trace = np.linspace(0.0, 10.0, N_STEPS)
    np.testing.assert_array_equal(_samples(st.Sampled(jnp.asarray(trace))), trace)
    total = st.Sampled(jnp.asarray(trace)) + st.Constant(1.0) + st.Constant(2.0)
    assert isinstance(total, st.Sum) and len(total.terms) == 3  # sums flatten
    np.testing.assert_allclose(_samples(total), trace + 3.0, rtol=0, atol=1e-15)
    assert total.n_samples == N_STEPS
    with pytest.raises(ValueError, match="n_steps = 10 but the stimulus has 400"):
        scjax.simulate(scjax.LIF(), total, DT, n_steps=10)


def test_per_neuron_parameters_equal_single_runs():
    amps = jnp.array([12.0, 16.0, 20.0])
    onsets = jnp.array([0.0, 5.0, 10.0])
    stimulus = st.Pulse(onset=onsets, duration=30.0, amplitude=amps) + st.Constant(1.0)
    model = scjax.LIF()
    batch = scjax.simulate_batch(model, stimulus, DT, n_steps=N_STEPS)
    assert batch.y.shape == (3, N_STEPS + 1, 1)
    for i in range(3):
        single = scjax.simulate(
            model,
            st.Pulse(onset=float(onsets[i]), duration=30.0, amplitude=float(amps[i]))
            + st.Constant(1.0),
            DT,
            n_steps=N_STEPS,
        )
        np.testing.assert_array_equal(np.asarray(batch.y[i]), np.asarray(single.y))
    assert list(np.asarray(batch.spike_count)) != [0, 0, 0]


def test_white_noise_statistics():
    sigma, mu, dt, n = 2.0, 1.5, 0.04, 200_000
    x = _samples(st.WhiteNoise(std=sigma, mean=mu), n_steps=n, dt=dt, key=jax.random.key(1))
    sd = sigma / np.sqrt(dt)  # per-sample standard deviation of σ·ξ/√dt
    assert abs(x.mean() - mu) < 5 * sd / np.sqrt(n)
    assert abs(x.std() / sd - 1.0) < 5 / np.sqrt(2 * n)
    lag1 = np.corrcoef(x[:-1], x[1:])[0, 1]
    assert abs(lag1) < 5 / np.sqrt(n)


@pytest.mark.parametrize("dt", [0.1, 5.0])  # exact transition: any dt, even dt = τ
def test_ornstein_uhlenbeck_statistics(dt):
    mu, sigma, tau, n = -1.0, 3.0, 5.0, 200_000
    x = _samples(
        st.OrnsteinUhlenbeck(mean=mu, std=sigma, tau=tau), n_steps=n, dt=dt, key=jax.random.key(2)
    )
    rho = np.exp(-dt / tau)
    # Effective sample size of an AR(1) series with coefficient rho.
    n_eff = n * (1 - rho) / (1 + rho)
    assert abs(x.mean() - mu) < 5 * sigma / np.sqrt(n_eff)
    assert abs(x.std() / sigma - 1.0) < 5 / np.sqrt(n_eff)
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1] - rho) < 5 * (1 - rho**2) / np.sqrt(n) + 1e-3


def test_stochastic_batch_neuron_equals_single_run_with_its_key():
    key = jax.random.key(3)
    model = scjax.LIF()
    stimulus = st.Constant(jnp.array([14.0, 15.0, 16.0, 17.0])) + st.OrnsteinUhlenbeck(
        mean=0.0, std=4.0, tau=3.0
    )
    batch = scjax.simulate_batch(model, stimulus, DT, n_steps=N_STEPS, key=key)
    keys = jax.random.split(key, 4)
    for i in (0, 3):
        one = st.Constant(float(stimulus.terms[0].amplitude[i])) + stimulus.terms[1]
        single = scjax.simulate(model, one, DT, n_steps=N_STEPS, key=keys[i])
        # Same draws; XLA's vectorised exp/sqrt may differ from the scalar ones by an ulp.
        np.testing.assert_allclose(np.asarray(batch.y[i]), np.asarray(single.y), rtol=1e-13)
        np.testing.assert_array_equal(np.asarray(batch.spikes[i]), np.asarray(single.spikes))
    # Independent noise per neuron: two neurons with the same drive differ.
    same = scjax.simulate_batch(
        model,
        st.Constant(jnp.array([15.0, 15.0])) + stimulus.terms[1],
        DT,
        n_steps=N_STEPS,
        key=key,
    )
    assert not np.array_equal(np.asarray(same.y[0]), np.asarray(same.y[1]))


def test_float32_stimulus_gives_a_float32_run():
    tr = scjax.simulate(scjax.LIF(), st.Constant(jnp.float32(16.0)), 0.1, n_steps=50)
    assert tr.y.dtype == jnp.float32


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: st.Constant(float("nan")), "amplitude must be finite"),
        (lambda: st.Constant(np.ones((2, 2))), "amplitude must be a real scalar or 1-D"),
        (lambda: st.Pulse(onset=0.0, duration=-1.0, amplitude=1.0), "duration must be >= 0"),
        (lambda: st.WhiteNoise(std=np.float32(-1.0)), "std must be >= 0"),
        (lambda: st.OrnsteinUhlenbeck(mean=0.0, std=1.0, tau=jnp.asarray(0.0)), "tau must be > 0"),
        (lambda: st.Sampled(jnp.zeros((0,))), "values must have shape"),
        (lambda: st.Constant(1.0) + 3.0, "unsupported operand"),
    ],
)
def test_bad_stimulus_parameters(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_bad_stimulus_use():
    model = scjax.LIF()
    with pytest.raises(ValueError, match="n_steps is None"):
        scjax.simulate(model, st.Constant(1.0), DT)
    with pytest.raises(ValueError, match="key is None"):
        scjax.simulate(model, st.WhiteNoise(std=1.0), DT, n_steps=10)
    with pytest.raises(ValueError, match="use scjax.simulate_batch"):
        scjax.simulate(model, st.Constant(jnp.ones(3)), DT, n_steps=10)
    with pytest.raises(ValueError, match="share one length B"):
        scjax.simulate_batch(
            model, st.Constant(jnp.ones(3)) + st.Constant(jnp.ones(2)), DT, n_steps=10
        )
    with pytest.raises(ValueError, match="noise_std > 0 needs a current array"):
        scjax.simulate(
            scjax.Izhikevich(noise_std=1.0), st.Constant(1.0), DT, n_steps=10, key=jax.random.key(0)
        )


def test_sample_trace_is_what_the_loop_sees():
    key = jax.random.key(4)
    stimulus = st.Constant(jnp.array([14.0, 16.0])) + st.WhiteNoise(std=1.5)
    trace = st.sample_trace(stimulus, N_STEPS, DT, key=key)
    assert trace.shape == (2, N_STEPS)
    model = scjax.LIF()
    inloop = scjax.simulate_batch(model, stimulus, DT, n_steps=N_STEPS, key=key)
    dense = scjax.simulate_batch(model, trace, DT)
    np.testing.assert_allclose(np.asarray(inloop.y), np.asarray(dense.y), rtol=1e-13)
    np.testing.assert_array_equal(np.asarray(inloop.spikes), np.asarray(dense.spikes))
    np.testing.assert_array_equal(
        np.asarray(
            st.sample_trace(st.Pulse(onset=10.0, duration=5.0, amplitude=2.0), N_STEPS, DT, t0=T0)
        ),
        np.where((T_N >= 10.0) & (T_N < 15.0), 2.0, 0.0),
    )
    with pytest.raises(ValueError, match="key is None"):
        st.sample_trace(st.WhiteNoise(std=1.0), 10, DT)


def test_fit_and_adaptive_reference_accept_stimuli():
    pulse = st.Pulse(onset=2.0, duration=6.0, amplitude=10.0)
    dense = st.sample_trace(pulse, 200, 0.05)
    model = scjax.HodgkinHuxley(integrator="rk4")
    target = scjax.simulate(model, dense, 0.05)
    res = scjax.fit(
        scjax.HodgkinHuxley(g_na=100.0, integrator="rk4"),
        params=["g_na"],
        current=pulse,
        n_steps=200,
        dt=0.05,
        target=target,
        steps=40,
    )
    ref = scjax.fit(
        scjax.HodgkinHuxley(g_na=100.0, integrator="rk4"),
        params=["g_na"],
        current=dense,
        dt=0.05,
        target=target,
        steps=40,
    )
    np.testing.assert_array_equal(np.asarray(res.loss_history), np.asarray(ref.loss_history))
    a = scjax.adaptive.solve(scjax.LIF(), (0.0, 10.0), pulse, current_dt=0.05, saveat=0.1)
    b = scjax.adaptive.solve(
        scjax.LIF(), (0.0, 10.0), np.asarray(dense), current_dt=0.05, saveat=0.1
    )
    np.testing.assert_array_equal(np.asarray(a.trajectory.y), np.asarray(b.trajectory.y))
    with pytest.raises(ValueError, match="n_steps is None"):
        scjax.fit(model, params=["g_na"], current=pulse, dt=0.05, target=target, steps=2)
