"""The parity harness: shared traces, error measures, verdicts (the `scjax parity` command is
tested in test_cli.py)."""

import numpy as np
import pytest

import scjax
from scjax import parity
from scjax.backends import AbstractBackend


def test_shared_current_is_deterministic_and_as_documented():
    case = parity.CASES["adex"]
    a, b = case.current(), case.current()
    np.testing.assert_array_equal(a, b)
    assert a.shape == (parity.TRACE_STEPS,) and a.dtype == np.float64
    # the documented formula, written out independently
    xi = np.random.default_rng(parity.TRACE_SEED + 2).standard_normal(1000)
    n = np.arange(1000)
    expect = np.where(n >= 100, 600.0 + 400.0 * n / 1000, 0.0) + 25.0 * xi
    np.testing.assert_allclose(a, expect, rtol=1e-15, atol=1e-12)
    # each model gets its own noise
    assert not np.allclose(
        parity.CASES["izhikevich"].current(), parity.CASES["hodgkin_huxley"].current()
    )


def test_random_params_are_seeded_perturbations_of_the_defaults():
    for case in parity.CASES.values():
        defaults = np.asarray(case.model().param_vector())
        sets = parity.random_params(case, 5)
        again = parity.random_params(case, 5)
        assert len(sets) == 5
        for p, q in zip(sets, again):
            np.testing.assert_array_equal(p, q)
            ratio = p[defaults != 0] / defaults[defaults != 0]
            assert np.all((ratio >= 0.85) & (ratio <= 1.15))
            assert not np.array_equal(p, defaults)
            case.model(p)  # a valid model (positivity etc. checked by its __check_init__)


class _Fake:
    """A trajectory-like object for `compare`."""

    def __init__(self, y, spikes, names=("v", "u")):
        self.y, self.spikes, self.state_names = np.asarray(y), np.asarray(spikes), names


def test_compare_measures_normwise_errors_per_component():
    y_ref = np.array([[10.0, 0.0], [-20.0, 1.0], [5.0, -2.0]])
    spikes = np.array([False, True])
    other = y_ref + np.array([[0.0, 0.0], [2e-9, 0.0], [0.0, 4e-11]])
    r = parity.compare(
        _Fake(y_ref, spikes), _Fake(other, spikes), rtol=1e-10, model_name="izhikevich"
    )
    assert r["max_abs"] == pytest.approx(2e-9)
    # v: 2e-9 / 20 = 1e-10; u: 4e-11 / 2 = 2e-11
    assert r["max_rel"] == pytest.approx(1e-10)
    assert r["max_abs_per_state"] == pytest.approx({"v": 2e-9, "u": 4e-11})
    assert r["spikes_identical"] and r["spike_count_diff"] == 0
    # v is at its tolerance 1e-10 * 20: half the error passes, 1.5 times fails
    half = parity.compare(
        _Fake(y_ref, spikes),
        _Fake(y_ref + (other - y_ref) / 2, spikes),
        rtol=1e-10,
        model_name="izhikevich",
    )
    assert half["passed"] and half["max_rel"] == pytest.approx(5e-11)
    more = parity.compare(
        _Fake(y_ref, spikes),
        _Fake(y_ref + (other - y_ref) * 1.5, spikes),
        rtol=1e-10,
        model_name="izhikevich",
    )
    assert not more["passed"]
    # one extra spike fails even with identical states
    r = parity.compare(
        _Fake(y_ref, spikes), _Fake(y_ref, [True, True]), rtol=1e-10, model_name="izhikevich"
    )
    assert not r["passed"] and r["spike_count_diff"] == 1 and r["max_abs"] == 0.0
    # NaN in the candidate is an infinite error, never a pass
    r = parity.compare(
        _Fake(y_ref, spikes),
        _Fake(np.full_like(y_ref, np.nan), spikes),
        rtol=1e-10,
        model_name="izhikevich",
    )
    assert not r["passed"] and r["max_abs"] == np.inf


def test_compare_uses_the_absolute_voltage_tolerance_for_hodgkin_huxley():
    names = ("v", "m", "h", "n")
    y_ref = np.array([[-65.0, 0.05, 0.6, 0.3], [40.0, 0.9, 0.2, 0.7]])
    other = y_ref + np.array([[0.0] * 4, [8e-10, 0.0, 0.0, 0.0]])
    s = np.array([False])
    hh = parity.compare(
        _Fake(y_ref, s, names), _Fake(other, s, names), rtol=1e-12, model_name="hodgkin_huxley"
    )
    izh = parity.compare(
        _Fake(y_ref, s, names), _Fake(other, s, names), rtol=1e-12, model_name="izhikevich"
    )
    assert hh["passed"] and not izh["passed"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="models"):
        parity.run_parity(models=["lif"])
    with pytest.raises(ValueError, match="backends"):
        parity.run_parity(backends=["fortran"])
    with pytest.raises(ValueError, match="n_random"):
        parity.run_parity(n_random=-1)


def test_registry_holds_native_scipy_and_julia_through_one_protocol():
    from scjax.backends import julia, native, scipy

    assert {"rust", "go", "mojo", "scipy", "julia"} <= set(parity.BACKENDS)
    for backend in parity.BACKENDS.values():
        assert isinstance(backend, AbstractBackend)
        status = backend.available()
        assert status is True or isinstance(status, str)
    assert isinstance(parity.BACKENDS["rust"], native.NativeBackend)
    assert not parity.BACKENDS["rust"].supports_adaptive
    assert isinstance(parity.BACKENDS["scipy"], scipy.SciPyBackend)
    assert isinstance(parity.BACKENDS["julia"], julia.JuliaBackend)
    with pytest.raises(ValueError, match="fixed-step only"):
        parity.BACKENDS["rust"].solve(scjax.Izhikevich(), (0.0, 1.0))
    with pytest.raises(ValueError, match="name"):
        native.NativeBackend("fortran")
    with pytest.raises(ValueError, match="AbstractBackend"):
        parity.register(object())


def test_adaptive_backends_are_judged_by_the_rate_rule():
    def fake(n_spikes, n=200):
        spikes = np.zeros(n, bool)
        spikes[:n_spikes] = True
        return _Fake(np.zeros((n + 1, 2)), spikes)

    # 40 exact spikes: ±2 passes (2 ≤ 2 and 2 ≤ 5 % of 40); 3 fails the count rule
    assert parity.compare_spike_rate(fake(42), fake(40), model_name="izhikevich")["passed"]
    assert parity.compare_spike_rate(fake(38), fake(40), model_name="izhikevich")["passed"]
    assert not parity.compare_spike_rate(fake(43), fake(40), model_name="izhikevich")["passed"]
    # 10 exact spikes: one more is 10 %, past the 5 % rate rule
    assert not parity.compare_spike_rate(fake(11), fake(10), model_name="izhikevich")["passed"]
    # the state errors are reported, not judged
    r = parity.compare_spike_rate(
        _Fake(np.ones((201, 2)), fake(40).spikes), fake(40), model_name="izhikevich"
    )
    assert r["passed"] and r["max_abs"] == 1.0


def test_scipy_joins_parity_as_an_adaptive_reference():
    import jax

    if not jax.config.jax_enable_x64:
        pytest.skip("parity needs float64")
    report = parity.run_parity(
        models=["izhikevich"], backends=["scipy"], n_random=0, integrators=["euler", "rk4"]
    )
    rows = report["rows"]
    assert [r["integrator"] for r in rows] == ["euler", "rk4"] and report["passed"]
    assert all(r["rule"] == "spike_rate" and r["spikes_ref"] == 5 for r in rows)
    assert all(r["spike_count_diff"] == 0 for r in rows)
    # one exact solution serves both integrators; RK4 is closer to it than Euler
    assert rows[1]["max_abs"] < rows[0]["max_abs"]
