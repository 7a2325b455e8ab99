import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax import losses


def _van_rossum_closed_form(t1, t2, tau):
    """D² on spike times (van Rossum 2001, normalised by 1/τ): an independent implementation
    of ½ΣΣ e^{−|tᵢ−tⱼ|/τ} + ½ΣΣ e^{−|sᵢ−sⱼ|/τ} − ΣΣ e^{−|tᵢ−sⱼ|/τ}."""
    k = lambda a, b: np.exp(-np.abs(a[:, None] - b[None, :]) / tau).sum()  # noqa: E731
    return 0.5 * k(t1, t1) + 0.5 * k(t2, t2) - k(t1, t2)


def test_van_rossum_matches_spike_time_closed_form():
    rng = np.random.default_rng(0)
    dt, n_steps, tau = 0.1, 2000, 7.0
    for _ in range(5):
        b1 = np.sort(rng.choice(n_steps, size=rng.integers(0, 12), replace=False))
        b2 = np.sort(rng.choice(n_steps, size=rng.integers(1, 12), replace=False))
        s1 = np.zeros(n_steps)
        s1[b1] = 1.0
        s2 = np.zeros(n_steps)
        s2[b2] = 1.0
        t1, t2 = (b1 + 1) * dt, (b2 + 1) * dt  # spikes are reported at the end of the step
        expected = _van_rossum_closed_form(t1, t2, tau)
        got = float(losses.van_rossum(jnp.asarray(s1), jnp.asarray(s2), dt, tau))
        assert got == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_van_rossum_textbook_values():
    dt, tau = 0.1, 5.0
    s = np.zeros(1000)
    s[100] = 1.0
    assert float(losses.van_rossum(s, s, dt, tau)) == 0.0
    # One unmatched spike contributes exactly ½ (van Rossum 2001).
    assert float(losses.van_rossum(s, np.zeros(1000), dt, tau)) == pytest.approx(0.5, rel=1e-12)
    # A spike shifted by δ: D² = 1 − e^{−δ/τ}.
    s2 = np.zeros(1000)
    s2[130] = 1.0
    assert float(losses.van_rossum(s, s2, dt, tau)) == pytest.approx(
        1.0 - np.exp(-3.0 / tau), rel=1e-12
    )


def test_exponential_filter_is_the_sampled_kernel():
    dt, tau = 0.25, 3.0
    s = np.zeros(200)
    s[[10, 11, 50]] = [1.0, 2.0, 1.0]
    f = np.asarray(losses.exponential_filter(jnp.asarray(s), dt, tau))
    n = np.arange(200)
    ref = sum(
        w * np.where(n >= k, np.exp(-(n - k) * dt / tau), 0.0)
        for k, w in [(10, 1.0), (11, 2.0), (50, 1.0)]
    )
    np.testing.assert_allclose(f, ref, rtol=1e-13, atol=1e-15)


def test_spike_times_to_signal_roundtrip():
    tr = scjax.simulate(scjax.Izhikevich.preset("RS"), jnp.full(3000, 10.0), dt=0.1)
    times = tr.spike_times()
    sig = losses.spike_times_to_signal(times, 3000, 0.1)
    np.testing.assert_array_equal(sig, np.asarray(tr.as_spike_signal()))
    with pytest.raises(ValueError, match="times must lie"):
        losses.spike_times_to_signal([0.0], 3000, 0.1)
    with pytest.raises(ValueError, match="times must be finite"):
        losses.spike_times_to_signal([np.nan], 3000, 0.1)


def test_trace_mse_and_subthreshold_mask():
    rng = np.random.default_rng(1)
    v_target = rng.uniform(-80, 30, 500)
    v = v_target + rng.normal(0, 2, 500)
    assert float(losses.trace_mse(v, v_target)) == pytest.approx(
        np.mean((v - v_target) ** 2), rel=1e-13
    )
    mask = v_target < -50.0
    assert float(losses.trace_mse(v, v_target, subthreshold=-50.0)) == pytest.approx(
        np.mean((v - v_target)[mask] ** 2), rel=1e-13
    )
    with pytest.raises(ValueError, match="target must have the shape"):
        losses.trace_mse(v, v_target[:-1])


def test_count_and_rate():
    s = np.zeros(4000)
    s[[100, 900, 2000]] = 1.0
    assert float(losses.spike_count(s, 5)) == 4.0
    # 3 spikes in 4000 × 0.05 ms = 200 ms → 15 Hz.
    assert float(losses.firing_rate_of(s, 0.05)) == pytest.approx(15.0, rel=1e-14)
    assert float(losses.firing_rate(s, 10.0, 0.05)) == pytest.approx(25.0, rel=1e-13)


def test_van_rossum_gradient_matches_finite_differences():
    # The loss is smooth in the signal; the surrogate only supplies d(signal)/d(params).
    rng = np.random.default_rng(2)
    s1 = jnp.asarray(rng.uniform(0, 1, 300))
    s2 = jnp.asarray((rng.uniform(0, 1, 300) > 0.95).astype(float))
    direction = jnp.asarray(rng.normal(size=300))
    f = lambda e: losses.van_rossum(s1 + e * direction, s2, 0.1, 4.0)  # noqa: E731
    h = 1e-2  # the loss is quadratic in the signal: central differences are exact
    fd = (f(h) - f(-h)) / (2 * h)
    ad = jnp.dot(jax.grad(lambda s: losses.van_rossum(s, s2, 0.1, 4.0))(s1), direction)
    assert float(ad) == pytest.approx(float(fd), rel=1e-8)


def _central_fd(f, x, rel_h=1e-7):
    h = rel_h * abs(x)
    return (f(x + h) - f(x - h)) / (2 * h)


GRAD_CASES = [
    # (model, parameter, current trace, dt, whether the window has spikes)
    ("hh", scjax.HodgkinHuxley(), ("g_na", "g_k", "g_l"), np.full(400, 8.0), 0.05),
    ("adex", scjax.AdEx(), ("a", "b", "tau_w", "g_l"), np.full(1000, 400.0), 0.1),
    ("izh", scjax.Izhikevich.preset("RS"), ("a", "b", "c", "d"), np.full(1000, 3.0), 0.1),
]


@pytest.mark.parametrize("label,model,names,current,dt", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_trace_loss_gradient_matches_finite_differences(label, model, names, current, dt):
    # HH is smooth (its window has a spike: no reset, so the trace is differentiable);
    # AdEx and Izhikevich are sub-threshold here, and surrogate=None.
    target = scjax.simulate(model, current, dt).v + 0.5 * jnp.sin(jnp.arange(len(current) + 1))
    if label != "hh":
        assert int(scjax.simulate(model, current, dt).spike_count) == 0

    def loss(values):
        m = model
        for n, v in zip(names, values):
            m = eqx_set(m, n, v)
        tr = scjax.simulate(m, current, dt, surrogate=None)
        return losses.trace_mse(tr, target, subthreshold=None if label != "adex" else -55.0)

    values = jnp.asarray([float(getattr(model, n)) for n in names])
    grad = jax.jit(jax.grad(loss))(values)
    loss_jit = jax.jit(loss)
    for j, n in enumerate(names):

        def f(x, j=j):
            return float(loss_jit(values.at[j].set(x)))

        fd = _central_fd(f, float(values[j]))
        assert float(grad[j]) == pytest.approx(fd, rel=1e-5), n


def eqx_set(model, name, value):
    import equinox as eqx

    return eqx.tree_at(lambda m: getattr(m, name), model, value)


def test_fi_curve_is_vmapped_and_matches_single_runs():
    model = scjax.Izhikevich.preset("RS")
    currents = losses.step_currents(jnp.array([0.0, 5.0, 10.0, 20.0]), 2000, onset=100)
    rates = np.asarray(losses.fi_curve(model, currents, 0.1))
    single = [float(scjax.simulate(model, c, 0.1).spike_count) / 0.2 for c in currents]
    np.testing.assert_allclose(rates, single, rtol=1e-12)
    assert rates[0] == 0.0 and np.all(np.diff(rates) > 0)  # F–I curve rises
    assert float(losses.fi_curve_loss(model, currents, rates, 0.1)) == 0.0
    g = jax.grad(lambda m: losses.fi_curve_loss(m, currents, rates + 5.0, 0.1))(model)
    assert np.isfinite(float(g.d)) and float(g.d) != 0.0  # through the surrogate


def test_van_rossum_times_matches_the_closed_form_of_analysis_and_masks_out_padding():
    from scjax.analysis import spikes as aspikes

    t1 = np.array([3.0, 11.5, 40.2])
    t2 = np.array([4.0, 30.0])
    ref = float(aspikes.van_rossum_distance(t1, 3, t2, 2, tau=7.0)) ** 2
    # Hand value for one extra spike: D² = ½.
    assert float(
        losses.van_rossum_times(np.array([5.0]), np.ones(1), np.zeros(0), np.zeros(0), tau=3.0)
    ) == pytest.approx(0.5, rel=1e-12)
    padded = losses.van_rossum_times(
        np.r_[t1, 0.0, 99.0], np.r_[np.ones(3), 0.0, 0.0], t2, np.ones(2), tau=7.0
    )
    assert float(padded) == pytest.approx(ref, rel=1e-12)


def test_subgrid_spike_times_interpolate_the_crossing_within_the_step():
    # LIF-free check on an Izhikevich RS trace: the sub-step times lie inside their steps and
    # are closer to a 20x finer simulation's times than the step-end times are.
    dt, fine = 0.1, 0.005
    current = np.where(np.arange(1500) * dt > 10.0, 10.0, 0.0)
    tr = scjax.simulate(scjax.Izhikevich(), current, dt)
    times, mask = losses.subgrid_spike_times(tr, 30.0, 8)
    n = int(mask.sum())
    grid = tr.spike_times()
    assert n == len(grid) == 4 and np.all(np.asarray(mask[n:]) == 0)
    times = np.asarray(times[:n])
    assert np.all((times >= grid - dt - 1e-12) & (times <= grid + 1e-12))
    ref = scjax.simulate(scjax.Izhikevich(), np.repeat(current, 20), fine).spike_times()
    assert np.abs(times - ref).mean() < np.abs(grid - ref).mean()


def test_spike_times_to_signal_names_the_binning_when_a_time_is_below_the_first_step_end():
    # 0.02 ms is inside (0, 1] ms but rounds to step end 0 (dt = 0.1): refused, and the
    # message says times are binned to the nearest step end.
    with pytest.raises(ValueError, match=r"nearest step end t0 \+ k·dt, k = 1\.\.n_steps"):
        losses.spike_times_to_signal([0.02], 10, 0.1)
    np.testing.assert_array_equal(
        losses.spike_times_to_signal([0.06, 1.0], 10, 0.1), [1] + [0] * 8 + [1]
    )
