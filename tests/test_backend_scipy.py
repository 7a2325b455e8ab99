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
