"""The parity harness: shared traces, error measures, verdicts and the `scjax parity` CLI."""

import json

import numpy as np
import pytest

import scjax
from scjax import parity
from scjax.cli import main as cli_main


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
    assert not np.allclose(parity.CASES["izhikevich"].current(),
                           parity.CASES["hodgkin_huxley"].current())


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
    r = parity.compare(_Fake(y_ref, spikes), _Fake(other, spikes), rtol=1e-10,
                       model_name="izhikevich")
    assert r["max_abs"] == pytest.approx(2e-9)
    # v: 2e-9 / 20 = 1e-10; u: 4e-11 / 2 = 2e-11
    assert r["max_rel"] == pytest.approx(1e-10)
    assert r["max_abs_per_state"] == pytest.approx({"v": 2e-9, "u": 4e-11})
    assert r["spikes_identical"] and r["spike_count_diff"] == 0
    # v is at its tolerance 1e-10 * 20: half the error passes, 1.5 times fails
    half = parity.compare(_Fake(y_ref, spikes), _Fake(y_ref + (other - y_ref) / 2, spikes),
                          rtol=1e-10, model_name="izhikevich")
    assert half["passed"] and half["max_rel"] == pytest.approx(5e-11)
    more = parity.compare(_Fake(y_ref, spikes), _Fake(y_ref + (other - y_ref) * 1.5, spikes),
                          rtol=1e-10, model_name="izhikevich")
    assert not more["passed"]
    # one extra spike fails even with identical states
    r = parity.compare(_Fake(y_ref, spikes), _Fake(y_ref, [True, True]), rtol=1e-10,
                       model_name="izhikevich")
    assert not r["passed"] and r["spike_count_diff"] == 1 and r["max_abs"] == 0.0
    # NaN in the candidate is an infinite error, never a pass
    r = parity.compare(_Fake(y_ref, spikes), _Fake(np.full_like(y_ref, np.nan), spikes),
                       rtol=1e-10, model_name="izhikevich")
    assert not r["passed"] and r["max_abs"] == np.inf


def test_compare_uses_the_absolute_voltage_tolerance_for_hodgkin_huxley():
    names = ("v", "m", "h", "n")
    y_ref = np.array([[-65.0, 0.05, 0.6, 0.3], [40.0, 0.9, 0.2, 0.7]])
    other = y_ref + np.array([[0.0] * 4, [8e-10, 0.0, 0.0, 0.0]])
    s = np.array([False])
    hh = parity.compare(_Fake(y_ref, s, names), _Fake(other, s, names), rtol=1e-12,
                        model_name="hodgkin_huxley")
    izh = parity.compare(_Fake(y_ref, s, names), _Fake(other, s, names), rtol=1e-12,
                         model_name="izhikevich")
    assert hh["passed"] and not izh["passed"]


class _Shifted:
    """A backend that returns JAX's trajectory with the voltage shifted or a spike added."""

    rtol = parity.NATIVE_RTOL

    def __init__(self, name, shift=0.0, extra_spike=False, reason=None):
        self.name, self.shift, self.extra_spike, self.reason = name, shift, extra_spike, reason

    def available(self):
        return True if self.reason is None else self.reason

    def simulate(self, model, current, dt, integrator, y0):
        tr = parity.JaxBackend().simulate(model, current, dt, integrator, y0)
        y = np.asarray(tr.y).copy()
        y[1:, 0] += self.shift
        spikes = np.asarray(tr.spikes).copy()
        if self.extra_spike:
            spikes[0] = True
        return scjax.Trajectory(t=tr.t, y=y, spikes=spikes, spike_signal=spikes * 1.0,
                                state_names=tr.state_names, diverged=tr.diverged)


ARGS = ["--models", "izhikevich", "--integrators", "euler", "--n-random", "1"]


def _run(monkeypatch, tmp_path, capsys, backends, extra=()):
    for b in backends:
        monkeypatch.setitem(parity.BACKENDS, b.name, b)
    out = tmp_path / "parity.json"
    code = cli_main(["parity", *ARGS, "--backends", *[b.name for b in backends],
                     "--json", str(out), *extra])
    return code, json.loads(out.read_text()), capsys.readouterr().out


def test_cli_passes_on_agreement_and_writes_json(monkeypatch, tmp_path, capsys):
    code, report, text = _run(monkeypatch, tmp_path, capsys, [_Shifted("same")])
    assert code == 0 and report["passed"] and report["n_checked"] == 2
    assert {r["params"] for r in report["rows"]} == {"default", "random0"}
    assert report["rows"][0]["max_abs"] == 0.0 and report["rows"][0]["spikes_ref"] > 0
    assert "izhikevich" in text and "PASS: 2/2" in text


def test_cli_fails_on_disagreement(monkeypatch, tmp_path, capsys):
    code, report, text = _run(monkeypatch, tmp_path, capsys, [_Shifted("off", shift=1e-6)])
    assert code == 1 and not report["passed"] and "FAIL" in text
    assert report["rows"][0]["max_abs"] == pytest.approx(1e-6, rel=1e-6)
    code, report, _ = _run(monkeypatch, tmp_path, capsys, [_Shifted("spk", extra_spike=True)])
    assert code == 1 and report["rows"][0]["spike_count_diff"] == 1


def test_cli_reports_unavailable_backends(monkeypatch, tmp_path, capsys):
    gone = _Shifted("gone", reason="missing-runtime (no such thing)")
    code, report, text = _run(monkeypatch, tmp_path, capsys, [_Shifted("same"), gone])
    assert code == 0 and report["backends"]["gone"] == "missing-runtime (no such thing)"
    assert "missing-runtime (no such thing)" in text
    code, _, _ = _run(monkeypatch, tmp_path, capsys, [_Shifted("same"), gone], ["--strict"])
    assert code == 1


def test_cli_runs_the_native_backends(tmp_path, capsys):
    from scjax.backends import native

    built = [b for b, s in native.available().items() if s is True]
    if not built:
        pytest.skip(f"no native library built: {native.available()}")
    out = tmp_path / "p.json"
    code = cli_main(["parity", "--models", "hodgkin_huxley", "--integrators", "rk4",
                     "--n-random", "0", "--backends", *built, "--json", str(out)])
    report = json.loads(out.read_text())
    assert code == 0 and report["n_checked"] == len(built) and report["passed"]
    assert all(r["max_rel"] < 1e-10 for r in report["rows"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="models"):
        parity.run_parity(models=["lif"])
    with pytest.raises(ValueError, match="backends"):
        parity.run_parity(backends=["fortran"])
    with pytest.raises(ValueError, match="n_random"):
        parity.run_parity(n_random=-1)
