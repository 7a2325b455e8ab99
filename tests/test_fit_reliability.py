"""`scjax.fit` reliability: explicit data alignment, failed fits reported, simulate's checks
made before compiling, compiled chunks and Ctrl-C. Cheap models (LIF, FHN) and short traces;
the one Hodgkin–Huxley problem compiles once for both of its fits."""

import signal

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import scjax
from scjax.fitting import FitFailedError, FitInterrupted, Recording, fit

# --- explicit alignment: the y[1:] bias of a [T] recording --------------------------------

HH_PHASES = [(optax.adam(0.05), 30), (optax.lbfgs(), 10)]


@pytest.fixture(scope="module")
def hh_recording():
    """A recording laid out as a data logger writes it: v[i] sampled with current[i], at
    t_i = i·dt (so T samples for T current samples, the last state missing)."""
    dt = 0.05
    current = np.where(np.arange(200) * dt > 2.0, 10.0, 0.0)
    truth = scjax.simulate(scjax.HodgkinHuxley(), current, dt)
    assert int(truth.spike_count) == 1
    return current, dt, np.asarray(truth.v)[:-1]


def test_recording_times_remove_the_one_step_bias_in_g_na(hh_recording):
    current, dt, v = hh_recording
    guess = scjax.HodgkinHuxley(g_na=110.0)
    kw = dict(current=current, dt=dt, params=("g_na",), optimizer=HH_PHASES)
    right = fit(guess, target=Recording.sampled(v, dt, t_first=0.0), **kw)
    # The former silent default (v taken as y[1:], i.e. t_first = dt) on the same data.
    shifted = fit(guess, target=Recording.sampled(v, dt, t_first=dt), **kw)
    bias_right = right.params["g_na"] / 120.0 - 1.0
    bias_shifted = shifted.params["g_na"] / 120.0 - 1.0
    assert abs(bias_right) < 1e-9, bias_right  # measured: 1e-16
    assert -0.06 < bias_shifted < -0.04, bias_shifted  # measured: −5.0 %
    assert right.loss < 1e-20
    assert shifted.loss > 0.1
    # Without times, a [T] trace is refused, and the error names the ways to align it.
    with pytest.raises(ValueError, match=r"shape \(201,\).*Recording\(t, v\).*t_first=t0 \+ dt"):
        fit(guess, target=v, **kw)


def _lif_problem(n=120, dt=0.5):
    current = np.full(n, 10.0)  # sub-threshold (rheobase 15): v relaxes to −55 mV
    return current, dt, scjax.simulate(scjax.LIF(tau_m=10.0), current, dt)


def test_recording_on_a_coarser_grid_and_off_grid_times():
    current, dt, truth = _lif_problem()
    t, v = np.asarray(truth.t), np.asarray(truth.v)
    # Every third sample, from t = 1.5 ms on: aligned by its times, the fit recovers τ_m.
    sub = Recording(t[3::3], v[3::3])
    result = fit(
        scjax.LIF(tau_m=14.0),
        current=current,
        dt=dt,
        target=sub,
        params=("tau_m",),
        optimizer=optax.adam(0.05),
        steps=150,
    )
    assert result.params["tau_m"] == pytest.approx(10.0, rel=1e-3)
    with pytest.raises(ValueError, match="on the simulation grid.*0.2 ms off"):
        fit(
            scjax.LIF(),
            current=current,
            dt=dt,
            target=Recording(t + 0.2, v),
            params=("tau_m",),
            steps=2,
        )
    with pytest.raises(ValueError, match=r"lie in \[0.0, 60.0\]"):
        fit(
            scjax.LIF(),
            current=current,
            dt=dt,
            target=Recording(t + 1.0, v),
            params=("tau_m",),
            steps=2,
        )
    with pytest.raises(ValueError, match="equally spaced"):
        fit(
            scjax.LIF(),
            current=current,
            dt=dt,
            target=Recording(np.r_[t[:3], t[4:]], np.r_[v[:3], v[4:]]),
            params=("tau_m",),
            steps=2,
        )
    with pytest.raises(ValueError, match="strictly increasing"):
        Recording([0.0, 0.0], [1.0, 2.0])


def test_recording_spike_times_are_the_crossing_rule_of_simulate():
    # Hodgkin–Huxley is a crossing model: its spikes are exactly the upward crossings of its
    # threshold between samples, so a recording of its voltage has simulate's spike times,
    # and they land in simulate's spike steps, also on a window that starts at t0 = 5 ms.
    model = scjax.HodgkinHuxley()
    dt = 0.05
    current = np.where(np.arange(600) * dt > 2.0, 10.0, 0.0)
    tr = scjax.simulate(model, current, dt, t0=5.0)
    times = Recording(tr.t, tr.v).spike_times(float(model.spike_threshold()))
    assert int(tr.spike_count) >= 2
    np.testing.assert_array_equal(times, tr.spike_times())
    signal = scjax.losses.spike_times_to_signal(times, 600, dt, t0=5.0)
    np.testing.assert_array_equal(signal, np.asarray(tr.spikes, dtype=float))
    # A threshold touched from below counts; one that is only reached and left does not.
    assert Recording([0.0, 1.0, 2.0, 3.0], [-1.0, 0.0, -1.0, 0.0]).spike_times(0.0).tolist() == [
        1.0,
        3.0,
    ]
    assert Recording([0.0, 1.0], [0.0, 1.0]).spike_times(0.0).size == 0


# --- failures are reported, never returned as results ---------------------------------------


def test_a_fit_whose_simulation_diverges_at_every_step_raises():
    # FitzHugh–Nagumo, forward Euler at dt = 5: the cubic term overflows within 6 steps.
    model = scjax.FitzHughNagumo(integrator="euler")
    current = np.full(20, 0.5)
    assert bool(scjax.simulate(model, current, 5.0, throw=False).diverged)
    with pytest.raises(FitFailedError, match="every one of the 4 steps.*initial guess diverges"):
        fit(model, current=current, dt=5.0, target=np.zeros(21), params=("a",), steps=4)


def test_a_failed_restart_is_marked_and_never_best():
    # loss(model) is NaN for a > 0.7 (say, an unstable region); restarts start either side.
    def loss(m):
        return jnp.where(m.a > 0.7, jnp.nan, (m.a - 0.5) ** 2)

    guess = scjax.FitzHughNagumo(a=0.7)
    key = jax.random.key(0)
    result = fit(
        guess,
        params=("a",),
        loss=loss,
        optimizer=optax.adam(0.05),
        steps=60,
        restarts=4,
        key=key,
        init_spread=0.3,
    )
    starts = result.initial_params["a"]
    assert np.any(starts > 0.7) and np.any(starts < 0.7), starts  # both kinds present
    np.testing.assert_array_equal(result.restart_failed, starts > 0.7)
    assert np.all(np.isinf(result.restart_losses[starts > 0.7]))
    assert not result.restart_failed[result.best_restart]
    assert result.params["a"] == pytest.approx(0.5, abs=1e-3)
    with pytest.raises(FitFailedError, match="loss callable returned a non-finite"):
        fit(scjax.FitzHughNagumo(a=0.9), params=("a",), loss=loss, steps=3)


def test_fit_makes_the_checks_simulate_makes_before_compiling():
    current = np.full(10, 5.0)
    lif = scjax.LIF()
    kw = dict(current=current, target=np.zeros(11), params=("v_rest",), steps=2)
    with pytest.raises(ValueError, match="differs from the dt = 0.1"):
        fit(scjax.models.FixedPointLIF(), dt=0.2, **kw)
    with pytest.raises(ValueError, match="too large for RosenbrockEuler on AdEx"):
        fit(
            scjax.AdEx(integrator="rosenbrock"),
            current=np.full(10, 500.0),
            dt=0.1,
            target=np.zeros(11),
            params=("a",),
            steps=2,
        )
    with pytest.raises(ValueError, match="y0 must be finite"):
        fit(lif, dt=0.1, y0=np.array([np.nan]), **kw)
    with pytest.raises(ValueError, match=r"y0 must have shape \(1,\)"):
        fit(lif, dt=0.1, y0=np.zeros(2), **kw)
    with pytest.raises(ValueError, match="noise_std"):
        fit(scjax.LIF(noise_std=1.0), dt=0.1, **kw)
    with pytest.raises(ValueError, match="dt"):
        fit(lif, dt=5e-324, **kw)
    with pytest.raises(ValueError, match="chunk_size"):
        fit(lif, dt=0.1, chunk_size=0, **kw)


# --- compiled chunks and Ctrl-C ---------------------------------------------------------


@pytest.fixture(scope="module")
def lif_fit_args():
    current, dt, truth = _lif_problem()
    # 39 steps + the evaluation of the last iterate: 40 calls, 4 chunks of 10.
    return dict(
        current=current,
        dt=dt,
        target=truth,
        params=("tau_m",),
        optimizer=optax.adam(0.05),
        steps=39,
    )


def test_chunks_give_the_loss_history_of_one_compiled_scan(lif_fit_args):
    one = fit(scjax.LIF(tau_m=14.0), chunk_size=1000, **lif_fit_args)
    chunked = fit(scjax.LIF(tau_m=14.0), chunk_size=7, **lif_fit_args)
    assert one.loss_history.shape == chunked.loss_history.shape == (1, 39)
    np.testing.assert_allclose(chunked.loss_history, one.loss_history, rtol=1e-12)
    assert chunked.params["tau_m"] == pytest.approx(one.params["tau_m"], rel=1e-12)


@pytest.mark.parametrize("how", ["callback raises", "SIGINT"])
def test_ctrl_c_stops_between_chunks_with_the_best_so_far(lif_fit_args, how):
    seen = []

    def callback(step, losses):
        seen.append(int(step))
        if int(step) == 12 and len(seen) == 13:
            if how == "SIGINT":
                signal.raise_signal(signal.SIGINT)
            else:
                raise KeyboardInterrupt

    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(FitInterrupted) as info:
        fit(scjax.LIF(tau_m=14.0), chunk_size=10, callback=callback, **lif_fit_args)
    assert signal.getsignal(signal.SIGINT) is handler  # restored
    # The chunk of steps 10–19 ran to its end, no later chunk started.
    assert seen == list(range(20))
    result = info.value.result
    assert info.value.steps_done == 20
    assert result.loss_history.shape == (1, 20)
    assert result.loss == pytest.approx(np.min(result.loss_history), rel=1e-12)
    assert 10.0 < result.params["tau_m"] < 14.0  # moving towards the truth, τ_m = 10
    assert isinstance(info.value, KeyboardInterrupt)
