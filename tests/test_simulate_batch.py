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
    vmapped = jax.vmap(
        lambda g: scjax.simulate(scjax.HodgkinHuxley(g_na=g, integrator="rk4"), current, 0.02)
    )(g_na)
    assert batch.y.shape == (6, 1501, 4) and batch.spikes.shape == (6, 1500)
    assert int(batch.spike_count.sum()) > 6
    _assert_same(batch, vmapped)


def test_izhikevich_currents_and_y0_batch_equals_vmap():
    currents = jnp.stack([jnp.full(1000, i) for i in (4.0, 8.0, 12.0)])
    y0 = jnp.array([[-65.0, -13.0], [-70.0, -14.0], [-60.0, -12.0]])
    model = scjax.Izhikevich.preset("CH")
    batch = scjax.simulate_batch(model, currents, 0.1, y0=y0, save_every=10)
    vmapped = jax.vmap(lambda c, y: scjax.simulate(model, c, 0.1, y0=y, save_every=10))(
        currents, y0
    )
    _assert_same(batch, vmapped)


def test_batch_surrogate_gradient_equals_vmap():
    current = jnp.full(300, 800.0)

    def loss(b, batched):
        s = scjax.SigmoidSurrogate(0.5)
        if batched:
            return scjax.simulate_batch(
                scjax.AdEx(b=b, v_peak=-40.4), current, 0.1, surrogate=s
            ).spike_signal.sum()
        return jax.vmap(
            lambda bb: scjax.simulate(
                scjax.AdEx(b=bb, v_peak=-40.4), current, 0.1, surrogate=s
            ).spike_signal.sum()
        )(b).sum()

    b = jnp.array([60.0, 80.5, 100.0, 120.0])
    np.testing.assert_allclose(
        np.asarray(jax.grad(loss)(b, True)),
        np.asarray(jax.grad(loss)(b, False)),
        rtol=1e-12,
        atol=1e-15,
    )


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
        scjax.simulate_batch(
            scjax.LIF(tau_m=jnp.ones(2) * 20.0), jnp.ones((2, 10)).at[1, 3].set(jnp.nan), 0.1
        )
    with pytest.raises(ValueError, match="upstroke"):
        scjax.simulate_batch(
            scjax.Izhikevich(a=jnp.full(4, 0.02), integrator="rosenbrock2"), jnp.ones(10), 0.1
        )


def _single(model, i, axes):
    return jax.tree.map(lambda x, a: x if a is None else x[i], model, axes)


@pytest.mark.parametrize("params", ["shared", "batched"])
@pytest.mark.parametrize("drive", ["shared_trace", "batch_trace", "stimulus"])
@pytest.mark.parametrize("with_y0", [False, True])
def test_every_combination_equals_single_runs(params, drive, with_y0):
    B, T = 3, 300
    model = (
        scjax.Izhikevich.preset("RS", d=jnp.array([8.0, 6.0, 4.0]))
        if params == "batched"
        else scjax.Izhikevich.preset("RS")
    )
    amps = np.array([8.0, 11.0, 14.0])
    current = {
        "shared_trace": jnp.full(T, 10.0),
        "batch_trace": jnp.asarray(np.repeat(amps[:, None], T, axis=1)),
        "stimulus": scjax.stimulus.Constant(jnp.asarray(amps)),
    }[drive]
    y0 = jnp.array([[-65.0, -13.0], [-60.0, -12.0], [-70.0, -14.0]]) if with_y0 else None
    if params == "shared" and drive == "shared_trace" and not with_y0:
        with pytest.raises(ValueError, match="none of them has a batch axis"):
            scjax.simulate_batch(model, current, 0.1, y0=y0)
        return
    batch = scjax.simulate_batch(model, current, 0.1, y0=y0, n_steps=T)
    axes = jax.tree.map(lambda x: 0 if np.ndim(x) == 1 else None, model)
    for i in range(B):
        cur_i = {
            "shared_trace": current,
            "batch_trace": current[i] if drive == "batch_trace" else None,
            "stimulus": scjax.stimulus.Constant(float(amps[i])),
        }[drive]
        single = scjax.simulate(
            _single(model, i, axes), cur_i, 0.1, n_steps=T, y0=None if y0 is None else y0[i]
        )
        np.testing.assert_array_equal(np.asarray(batch.y[i]), np.asarray(single.y))
        np.testing.assert_array_equal(np.asarray(batch.spikes[i]), np.asarray(single.spikes))


def test_batch_validation_names_the_argument():
    model = scjax.LIF(tau_m=jnp.array([20.0, 10.0]))
    bad = np.full((2, 50), 20.0)
    bad[1, 7] = np.nan
    with pytest.raises(ValueError, match=r"current must be finite, got nan at index \(1, 7\)"):
        scjax.simulate_batch(model, bad, 0.1)
    with pytest.raises(
        ValueError,
        match=r"agree on one batch size B, got model: \[2\], "
        r"current: \[3\]",
    ):
        scjax.simulate_batch(model, np.zeros((3, 50)), 0.1)
    with pytest.raises(ValueError, match=r"y0 must have shape \(2, 1\)"):
        scjax.simulate_batch(model, np.zeros(50), 0.1, y0=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="y0 must be finite"):
        scjax.simulate_batch(model, np.zeros(50), 0.1, y0=np.array([[0.0], [np.nan]]))


def test_blow_up_is_flagged_per_neuron_even_when_reset():
    # LIF under a huge current overflows to +inf in one Euler step; the reset to a finite
    # V_reset would hide it. That neuron's state becomes NaN; the others are untouched.
    model = scjax.LIF(r_m=10.0)  # R_m·I = 1e309 overflows
    current = np.stack([np.full(20, 2.0), np.full(20, 1e308)])
    tr = scjax.simulate_batch(model, current, 0.1, y0=np.full((2, 1), -65.0), throw=False)
    assert np.all(np.isfinite(np.asarray(tr.y[0]))) and np.all(np.isnan(np.asarray(tr.y[1, 1:])))
    np.testing.assert_array_equal(np.asarray(tr.diverged), [False, True])
    with pytest.raises(Exception, match="non-finite"):
        jax.block_until_ready(
            scjax.simulate_batch(model, current, 0.1, y0=np.full((2, 1), -65.0)).y
        )


def _izhikevich_guarded(a, b, c, d, current, dt):
    """helpers.izhikevich_matlab with the documented divergence rule applied directly, per
    step: a candidate (v, u) that is not finite (before the reset, which would hide it) makes
    the state NaN from then on, and a NaN state does not fire. Written from the rule, not
    from the loop's offset (scjax/simulation/_loop.py)."""
    v, u = -65.0, b * -65.0
    ys, spikes = [(v, u)], []
    with np.errstate(over="ignore", invalid="ignore"):
        for i_n in np.asarray(current, np.float64):
            v, u = np.float64(v), np.float64(u)
            u_old = u
            v = v + 0.5 * dt * (0.04 * v * v + 5.0 * v + 140.0 - u_old + i_n)
            v = v + 0.5 * dt * (0.04 * v * v + 5.0 * v + 140.0 - u_old + i_n)
            u = u_old + dt * (a * (b * v - u_old))
            fired = bool(v >= 30.0)
            finite = bool(np.isfinite(v) and np.isfinite(u))
            if fired:
                v, u = c, u + d
            if not finite:
                v, u = np.nan, np.nan
            ys.append((v, u))
            spikes.append(fired)
    return np.array(ys), np.array(spikes)


def test_divergence_mid_run_matches_the_per_step_rule():
    # Neuron 1 fires normally, then a current of 1e307 overflows v to +inf inside a step: the
    # reset (v = c) would hide it. The loop drops its spikes and returns NaN from
    # that step on; its earlier spikes are kept, none after. Neurons 0 and 2 are untouched.
    a, b, c, d = scjax.models.IZHIKEVICH_PRESETS["RS"]
    model = scjax.Izhikevich.preset("RS")
    n_steps, dt, onset = 400, 0.5, 250
    current = np.full((3, n_steps), 10.0)
    current[1, onset:] = 1e307
    current[2] = 14.0
    tr = scjax.simulate_batch(model, current, dt, throw=False)
    for i in range(3):
        ys, spikes = _izhikevich_guarded(a, b, c, d, current[i], dt)
        np.testing.assert_array_equal(np.asarray(tr.spikes[i]), spikes)
        np.testing.assert_allclose(np.asarray(tr.y[i]), ys, rtol=1e-12, atol=1e-12)
        assert int(tr.spike_count[i]) == int(spikes.sum())
    y1 = np.asarray(tr.y[1])
    assert np.all(np.isfinite(y1[: onset + 1])) and np.all(np.isnan(y1[onset + 1 :]))
    # v = +inf at the blow-up step counts as a spike (as before any guard); none after it.
    spikes1 = np.asarray(tr.spikes[1])
    assert spikes1[onset] and not spikes1[onset + 1 :].any() and spikes1[:onset].sum() >= 3
    np.testing.assert_array_equal(np.asarray(tr.diverged), [False, True, False])
    # The other recordings agree: a count, spike times, states saved every 50 steps.
    count = scjax.simulate_batch(model, current, dt, throw=False, spikes="count")
    np.testing.assert_array_equal(np.asarray(count.spike_count), np.asarray(tr.spike_count))
    np.testing.assert_array_equal(np.asarray(count.y), np.asarray(tr.y))
    times = scjax.simulate_batch(model, current, dt, throw=False, spikes="times", max_spikes=64)
    for i in range(3):  # each spike at the end of its step
        got = np.asarray(times.spike_time_buffer[i])
        ends = dt * (np.flatnonzero(np.asarray(tr.spikes[i])) + 1)
        np.testing.assert_allclose(got[np.isfinite(got)], ends, rtol=1e-15)
    sparse = scjax.simulate_batch(model, current, dt, throw=False, save_every=50)
    np.testing.assert_array_equal(np.asarray(sparse.y), np.asarray(tr.y[:, ::50]))
    # Forward Euler: v overflows (2 ms · 1e308) while u, computed from the old v, stays
    # finite; the state returned is NaN in both components from that step on.
    euler = scjax.Izhikevich.preset("RS", integrator="euler")
    blow = np.full((2, 120), 10.0)
    blow[1, 80:] = 1e308
    tr_e = scjax.simulate_batch(euler, blow, 2.0, throw=False)
    y_e = np.asarray(tr_e.y[1])
    assert np.all(np.isfinite(y_e[:81])) and np.all(np.isnan(y_e[81:]))
    assert not np.asarray(tr_e.spikes[1, 81:]).any()
    u_only = np.asarray(scjax.simulate_batch(euler, blow, 2.0, throw=False, record="u").y[1, :, 0])
    assert np.all(np.isfinite(u_only[:81])) and np.all(np.isnan(u_only[81:]))  # v's NaN shows
    np.testing.assert_array_equal(np.asarray(tr_e.diverged), [False, True])
    # Under a surrogate the forward values are the same: the signal is 0 from the flag on.
    surrogate = scjax.simulate_batch(model, current, dt, throw=False, surrogate="sigmoid")
    np.testing.assert_array_equal(np.asarray(surrogate.spike_signal) > 0.5, np.asarray(tr.spikes))
    np.testing.assert_array_equal(np.asarray(surrogate.spike_count), np.asarray(tr.spike_count))
