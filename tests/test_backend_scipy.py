"""SciPy backend: NumPy vector fields and solve_ivp with events, checked against closed forms."""

import numpy as np
import pytest

import scjax
from scjax.backends import scipy as sb


def test_available():
    assert sb.available() is True


def test_lif_spike_times_closed_form():
    # τ dV/dt = −(V − V_rest) + R I from V_rest, reset to V_rest: ISI = τ ln(RI / (RI − 15)).
    sol = sb.solve(scjax.LIF(), (0.0, 100.0), 20.0)
    traj, spikes = sol.trajectory, sol.spike_times_array()
    isi = 20.0 * np.log(20.0 / 5.0)
    np.testing.assert_allclose(spikes, isi * np.arange(1, 4), atol=1e-7)
    assert traj.y.shape == (1001, 1) and traj.spikes.shape == (1000,)
    assert int(traj.spikes.sum()) == 3
    # Between spikes V follows the exponential exactly.
    t = np.asarray(traj.t)[:200]
    np.testing.assert_allclose(traj.y[:200, 0], -65 + 20 * (1 - np.exp(-t / 20)), atol=1e-8)


def test_simulate_schema_and_piecewise_current():
    current = np.concatenate([np.zeros(100), np.full(200, 10.0)])
    traj = sb.simulate(scjax.LIF(), current, 0.1)
    assert traj.t.shape == (301,) and traj.y.shape == (301, 1) and traj.state_names == ("v",)
    # V stays at rest until t = 10 ms, then relaxes towards −55 mV.
    np.testing.assert_allclose(traj.y[:101, 0], -65.0, atol=1e-12)
    t = np.asarray(traj.t)[100:] - 10.0
    np.testing.assert_allclose(traj.y[100:, 0], -65 + 10 * (1 - np.exp(-t / 20)), atol=1e-8)


def test_bad_arguments():
    with pytest.raises(ValueError, match="method"):
        sb.solve(scjax.LIF(), (0.0, 1.0), method="RK45")
    with pytest.raises(ValueError, match="dt"):
        sb.simulate(scjax.LIF(), np.ones(3), -0.1)


def test_nan_tolerance_and_bad_spans_are_value_errors():
    for kwargs in (
        dict(rtol=float("nan")),
        dict(atol=float("nan")),
        dict(rtol=-1.0),
        dict(saveat=float("nan")),
        dict(saveat=1e300),
    ):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            sb.solve(scjax.LIF(), (0.0, 1.0), 20.0, **kwargs)
    with pytest.raises(ValueError, match="y0"):
        sb.solve(scjax.LIF(), (0.0, 1.0), y0=[np.nan])


def test_huge_current_stops_at_max_spikes_instead_of_hanging():
    import time

    # I = 1e10: ISI = τ ln(RI / (RI − 15)) = 3e-8 ms, 1.7e8 spikes in 5 ms.
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="max_spikes"):
        sb.simulate(scjax.LIF(), np.full(50, 1e10), 0.1)
    sol = sb.solve(scjax.LIF(), (0.0, 5.0), 1e10, max_spikes=100, throw=False)
    assert time.perf_counter() - start < 30.0
    assert bool(sol.result == scjax.adaptive.RESULTS.max_spikes_reached)
    isi = 20.0 * np.log(1e10 / (1e10 - 15.0))
    np.testing.assert_allclose(np.diff(sol.spike_times_array()), isi, rtol=1e-3)
    # the unsolved rest of the grid is NaN and flagged
    assert bool(sol.trajectory.diverged) and np.isnan(sol.trajectory.y[-1, 0])


def test_blow_up_is_a_reported_failure():
    # HH at 1e9 µA/cm²: math.exp overflows in the rates; reported, never an OverflowError.
    sol = sb.solve(scjax.HodgkinHuxley(), (0.0, 1.0), 1e9, throw=False, max_steps=2000)
    assert bool(sol.result == scjax.adaptive.RESULTS.solve_failed)
    with pytest.raises(RuntimeError, match="failed"):
        sb.solve(scjax.HodgkinHuxley(), (0.0, 1.0), 1e9, max_steps=2000)


def test_backend_protocol_matches_the_module_functions():
    backend = sb.SciPyBackend()
    assert backend.name == "scipy" and backend.supports_adaptive and backend.available() is True
    sol = backend.solve(scjax.LIF(), (0.0, 100.0), 20.0)
    np.testing.assert_allclose(
        sol.spike_times_array(), 20.0 * np.log(4.0) * np.arange(1, 4), atol=1e-7
    )
    assert int(sol.n_steps) > 0 and bool(sol.result == scjax.adaptive.RESULTS.successful)
    traj = backend.simulate(scjax.LIF(), np.full(100, 20.0), 0.1)
    np.testing.assert_array_equal(traj.y, sb.simulate(scjax.LIF(), np.full(100, 20.0), 0.1).y)
    with pytest.raises(ValueError, match="integrator"):
        backend.simulate(scjax.LIF(), np.full(10, 20.0), 0.1, integrator="rk4")


def test_every_suite_system_has_a_transcription():
    # The NumPy transcription against the JAX model (two independent implementations), at a
    # perturbed initial state, t = 1.3 ms and a current of 0.3.
    rng = np.random.default_rng(1)
    for system in scjax.adaptive.SYSTEMS.values():
        model = system.make()
        y = np.asarray(model.initial_state(), float)
        y = y + 0.01 * np.abs(y).max() * rng.uniform(0.0, 1.0, y.shape)
        dy = sb.vector_field(model)(1.3, y, 0.3)
        ref = np.asarray(model.vector_field(1.3, y, 0.3))
        assert dy.shape == (model.n_state,)
        np.testing.assert_allclose(
            dy, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max(), err_msg=system.name
        )
    with pytest.raises(ValueError, match="no NumPy transcription"):
        sb.vector_field(scjax.models.FixedPointLIF())
