"""scjax.adaptive.solve: event-exact resets, crossings, piecewise currents, argument checks."""

import diffrax
import numpy as np
import pytest

import scjax
from scjax import adaptive


def test_lif_event_exact_spike_times_and_grid():
    # Closed form: ISI = τ ln(RI/(RI − 15)); between spikes V = V_inf + (V_r − V_inf) e^{−s/τ}.
    # Over 1 s (the cross-validation span, so the compiled solve is shared with it).
    sol = adaptive.solve(scjax.LIF(), (0.0, 1000.0), 20.0)
    isi = 20.0 * np.log(4.0)
    st = sol.spike_times_array()
    np.testing.assert_allclose(st, isi * np.arange(1, int(1000.0 // isi) + 1), atol=1e-8)
    tr = sol.trajectory
    assert tr.y.shape == (10001, 1) and tr.spikes.shape == (10000,)
    t = np.asarray(tr.t)
    since = t - np.concatenate([[0.0], st])[np.searchsorted(st, t, side="left")]
    np.testing.assert_allclose(tr.y[:, 0], -45.0 - 20.0 * np.exp(-since / 20.0), atol=1e-7)
    # Spike bins: step n spikes when t[n] < s <= t[n+1].
    assert list(np.nonzero(np.asarray(tr.spikes))[0]) == [int(np.ceil(s / 0.1)) - 1 for s in st]


def test_piecewise_constant_current():
    # Rest for 10 ms, then I = 20: first spike at 10 + τ ln 4 exactly.
    current = np.concatenate([np.zeros(100), np.full(900, 20.0)])
    sol = adaptive.solve(scjax.LIF(), (0.0, 100.0), current, current_dt=0.1)
    np.testing.assert_allclose(sol.spike_times_array()[0], 10.0 + 20.0 * np.log(4.0), atol=1e-8)
    np.testing.assert_allclose(sol.trajectory.y[:101, 0], -65.0, atol=1e-12)


def test_plain_system_closed_form():
    m = scjax.models.SCEquilibrium()
    sol = adaptive.solve(m, (0.0, 200.0), 0.0)  # the cross-validation span: a shared compile
    np.testing.assert_allclose(sol.trajectory.y[:, 0], m.exact(sol.trajectory.t), atol=1e-9)
    assert int(sol.n_spikes) == 0 and not bool(sol.trajectory.spikes.any())


def test_rodas_option_matches_tsit5():
    m = scjax.models.SCEquilibrium()
    sol = adaptive.solve(m, (0.0, 100.0), 0.0, solver=scjax.solvers.Rodas5P())
    np.testing.assert_allclose(sol.trajectory.y[:, 0], m.exact(sol.trajectory.t), atol=1e-9)


def test_bad_arguments():
    with pytest.raises(ValueError, match="t_span"):
        adaptive.solve(scjax.LIF(), (5.0, 1.0))
    with pytest.raises(ValueError, match="saveat"):
        adaptive.solve(scjax.LIF(), (0.0, 1.0), saveat=-0.1)
    with pytest.raises(ValueError, match="integer"):
        adaptive.solve(scjax.LIF(), (0.0, 1.05), saveat=0.1)
    with pytest.raises(ValueError, match="current"):
        adaptive.solve(scjax.LIF(), (0.0, 1.0), np.ones((2, 2)))
    with pytest.raises(ValueError, match="solver"):
        adaptive.solve(scjax.LIF(), (0.0, 1.0), solver=diffrax.Euler())


def test_refuses_nan_y0_and_a_saveat_longer_than_the_span():
    with pytest.raises(ValueError, match="y0 must be finite"):
        adaptive.solve(scjax.LIF(), (0.0, 1.0), y0=np.array([np.nan]))
    with pytest.raises(ValueError, match="saveat"):
        adaptive.solve(scjax.LIF(), (0.0, 1.0), saveat=1e300)  # (t1 - t0)/saveat rounds to 0
    with pytest.raises(ValueError, match="saveat"):
        adaptive.solve(scjax.LIF(), (0.0, 1.0), saveat=5e-324)  # 2e323 samples
    with pytest.raises(ValueError, match="rtol"):
        adaptive.solve(scjax.LIF(), (0.0, 1.0), rtol=float("nan"))


def test_max_spikes_is_a_result_code_with_its_message():
    # LIF at I = 20 spikes every τ ln 4 = 27.7 ms: the third spike of 100 ms is past max_spikes.
    sol = adaptive.solve(scjax.LIF(), (0.0, 100.0), 20.0, max_spikes=2, throw=False)
    assert bool(sol.result == adaptive.RESULTS.max_spikes_reached)
    assert adaptive.RESULTS[sol.result].startswith("max_spikes reached")
    np.testing.assert_allclose(
        sol.spike_times_array(), 20.0 * np.log(4.0) * np.arange(1, 3), atol=1e-8
    )
    with pytest.raises(RuntimeError, match="max_spikes = 2"):
        adaptive.solve(scjax.LIF(), (0.0, 100.0), 20.0, max_spikes=2)


@pytest.mark.parametrize("as_jax", [False, True])
def test_spike_raster_matches_the_bin_definition(as_jax):
    import jax.numpy as jnp

    rng = np.random.default_rng(0)
    grid = 0.1 * np.arange(51)
    times = np.sort(rng.uniform(-0.5, 5.5, 30))
    times[:3] = grid[[0, 7, 50]]  # on the grid: s = t[n] belongs to step n − 1
    n_valid = 25
    expect = np.zeros(50, bool)
    for s in times[:n_valid]:
        for n in range(50):
            if grid[n] < s <= grid[n + 1]:
                expect[n] = True
    if as_jax:
        got = adaptive.spike_raster(jnp.asarray(grid), jnp.asarray(times), n_valid)
    else:
        got = adaptive.spike_raster(grid, times, n_valid)
        assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(np.asarray(got), expect)


def test_result_codes_keep_their_historical_integers():
    ok = adaptive.solve(scjax.LIF(), (0.0, 100.0), 20.0)
    stopped = adaptive.solve(scjax.LIF(), (0.0, 100.0), 20.0, max_spikes=2, throw=False)
    assert ok.result_code() == 0 and stopped.result_code() == 2
