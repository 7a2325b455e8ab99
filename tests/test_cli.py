"""The `scjax` command line: the error contract, atomic outputs, and one small run per command.

Every user error must end as exactly one stderr line `scjax <command>: error: ...` with exit 2
and nothing error-like on stdout; a negative verdict exits 1; Ctrl-C 130.
"""

import errno
import json
import math
import os
import subprocess
import sys
from typing import ClassVar

import numpy as np
import pytest

import scjax
from scjax import parity
from scjax.backends import AbstractBackend
from scjax.cli import _common, _fit, main

# --- helpers -------------------------------------------------------------------------------


def _call(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _assert_user_error(capsys, argv, command, match):
    code, out, err = _call(capsys, argv)
    lines = err.strip().splitlines()
    assert code == 2, (code, out, err)
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{command}: error: "), lines[0]
    assert match in lines[0], lines[0]
    assert "error" not in out.lower() and "Traceback" not in err
    return lines[0]


def _write(path, text):
    path.write_text(text)
    return str(path)


def _hh_recording(tmp_path, t_ms=6.0, dt=0.05):
    n = round(t_ms / dt)
    current = np.where(np.arange(n) * dt > 2.0, 10.0, 0.0)
    target = scjax.simulate(scjax.HodgkinHuxley(), current, dt)
    np.savez(tmp_path / "rec.npz", current=current, v=np.asarray(target.v), dt=dt)
    return current, dt, target


FIT_TOML = (
    'model = "HodgkinHuxley"\n[model_params]\ng_l = 0.4\n'
    '[data]\nfile = "rec.npz"\n'
    '[fit]\nparams = ["g_l"]\nloss = "trace_mse"\nsteps = {steps}\n'
    '[fit.optimizer]\nname = "adam"\nlearning_rate = 0.1\n'
    '[output]\ndir = "{out}"\n'
)


# --- the command itself --------------------------------------------------------------------


def test_version(capsys):
    code, out, err = _call(capsys, ["--version"])
    assert code == 0 and out.strip() == f"scjax {scjax.__version__}" and err == ""
    import importlib.metadata

    try:
        assert scjax.__version__ == importlib.metadata.version("scjax")
    except importlib.metadata.PackageNotFoundError:
        assert scjax.__version__ == "0+unknown"


def test_missing_and_unknown_command(capsys):
    _assert_user_error(capsys, [], "scjax", "COMMAND")
    _assert_user_error(capsys, ["nosuch"], "scjax", "invalid choice: 'nosuch'")


def test_help_goes_to_stdout_and_exits_0(capsys):
    code, out, err = _call(capsys, ["--help"])
    assert code == 0 and err == "" and all(c in out for c in ("demo", "parity", "fit"))


def test_python_m_and_no_global_config_at_import():
    # One interpreter: import everything the CLI has (no x64 flip), then run the package as
    # `python -m scjax.cli --version` does.
    env = {**os.environ, "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("JAX_ENABLE_X64", None)
    code = (
        "import runpy, sys, jax, scjax, scjax.cli; scjax.cli.build_parser(); "
        "print(jax.config.jax_enable_x64); sys.argv = ['scjax', '--version']; "
        "runpy.run_module('scjax.cli', run_name='__main__')"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:2] == ["False", f"scjax {scjax.__version__}"]


# --- error classes: internal, interrupt, debug ---------------------------------------------


def _boom(exc):
    def run(*args, **kwargs):
        raise exc

    return run


def test_internal_error_is_one_line_exit_1_traceback_on_request(capsys, monkeypatch):
    from scjax.cli import _reference

    monkeypatch.setattr(_reference, "run", _boom(RuntimeError("a bug\nover two lines")))
    monkeypatch.delenv(_common.DEBUG_ENV, raising=False)
    code, out, err = _call(capsys, ["reference"])
    assert code == 1 and out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("scjax reference: internal error: RuntimeError: a bug over two")
    assert "--debug" in line
    code, _, err = _call(capsys, ["reference", "--debug"])
    assert code == 1 and "Traceback (most recent call last)" in err
    monkeypatch.setenv(_common.DEBUG_ENV, "1")
    code, _, err = _call(capsys, ["reference"])
    assert code == 1 and "Traceback (most recent call last)" in err


def test_keyboard_interrupt_exits_130(capsys, monkeypatch):
    from scjax.cli import _analyze

    monkeypatch.setattr(_analyze, "run", _boom(KeyboardInterrupt()))
    code, out, err = _call(capsys, ["analyze", "lif"])
    assert code == 130 and out == "" and err.strip() == "scjax analyze: interrupted"


def test_library_value_error_is_a_user_error(capsys, monkeypatch):
    from scjax.cli import _analyze

    monkeypatch.setattr(_analyze, "run", _boom(ValueError("dt must be positive,\ngot -1")))
    line = _assert_user_error(capsys, ["analyze", "lif"], "scjax analyze", "dt must be")
    assert line.endswith("dt must be positive, got -1")


# --- user errors, per command --------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, match",
    [
        (["reference", "--repeats", "0"], "--repeats: must be >= 1, got 0"),
        (["reference", "--repeats", "x"], "invalid int value: 'x'"),
        (["reference", "0"], "steps: must be >= 1"),
        (["reference", "--systems", "nosuch"], "'nosuch' is not a system"),
        (["reference", "--systems", "lif,"], "is not a system"),
    ],
)
def test_reference_user_errors(capsys, argv, match):
    _assert_user_error(capsys, argv, "scjax reference", match)


@pytest.mark.parametrize(
    "argv, match",
    [
        (["analyze", "fhn", "--preset", "X"], "FitzHughNagumo has no presets, got 'X'"),
        (["analyze", "izhikevich", "--preset", "NOPE"], "name must be one of ('RS'"),
        (["analyze", "fhn", "--currents", "1:2"], "expected lo:hi:n"),
        (["analyze", "fhn", "--currents", "a:b:c"], "expected lo:hi:n"),
        (["analyze", "fhn", "--currents", "0:1:1"], "n must be >= 2"),
        (["analyze", "fhn", "--currents", "2:1:5"], "finite lo < hi"),
        (["analyze", "fhn", "--currents", "0:inf:5"], "finite lo < hi"),
        (["analyze", "nosuch"], "must be one of fhn"),
        (["analyze", "fhn", "--current", "x"], "invalid float value"),
    ],
)
def test_analyze_user_errors(capsys, argv, match):
    _assert_user_error(capsys, argv, "scjax analyze", match)


def test_analyze_names_and_presets_come_from_the_models():
    from scjax.cli import _analyze

    for key, setup in _analyze.MODELS.items():
        cls = setup.model_class()
        assert list(setup.bounds) == list(cls.state_names), key
        assert _analyze.resolve(cls.__name__) == key
    assert _analyze.resolve("Hodgkin_Huxley") == "hh" and _analyze.resolve("ML") == "morris-lecar"
    rs = _analyze.build_model(_analyze.MODELS["izhikevich"], "RS")
    assert rs == scjax.Izhikevich.preset("RS")


@pytest.mark.parametrize(
    "argv, match",
    [
        (["parity", "--integrators", "nosuch"], "'nosuch' is not an integrator"),
        (["parity", "--models", "adex", "--integrators", "half_euler"], "none of ['half_euler']"),
        (["parity", "--models", "lif"], "invalid choice: 'lif'"),
        (["parity", "--n-random", "-1", "--json", ""], "n_random must be >= 0"),
        (["parity", "--steps", "0", "--json", ""], "n_steps must be >= 1"),
    ],
)
def test_parity_user_errors(capsys, argv, match):
    _assert_user_error(capsys, argv, "scjax parity", match)


def _fit_case(tmp_path, name):
    """(argv, expected substring) of one malformed fit input, written into tmp_path."""
    np.savez(tmp_path / "rec.npz", current=np.zeros(10), v=np.full(11, -65.0), dt=0.1)
    good = {"model": "HodgkinHuxley", "data": {"file": "rec.npz"}, "fit": {"params": ["g_l"]}}
    np.savez(tmp_path / "v.npz", v=np.full(11, -65.0), dt=0.1)
    np.savez(tmp_path / "spikes.npz", spike_times=[0.5], dt=0.1)
    good_v = {**good, "data": {"file": "v.npz"}}
    good_s = {
        **good,
        "data": {"file": "spikes.npz"},
        "fit": {"params": ["g_l"], "loss": "van_rossum"},
    }
    step = {"kind": "Step", "onset": 0.5, "amplitude": 10.0}

    def cfg(obj, suffix=".json"):
        return _write(tmp_path / f"c{suffix}", json.dumps(obj))

    def with_(section, **kw):
        return {**good, section: {**good.get(section, {}), **kw}}

    truncated = (tmp_path / "rec.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(truncated[: len(truncated) // 2])
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("current,v\n")
    (tmp_path / "ragged.csv").write_text("current,v\n1,2\n3\n")
    (tmp_path / "same.csv").write_text("current,v\n" + "0.0,-65.0\n" * 5)
    (tmp_path / "nocur.npz").write_bytes(b"")
    np.savez(tmp_path / "nocur.npz", v=np.zeros(3))
    np.savez(tmp_path / "nodt.npz", current=np.zeros(10), v=np.full(11, -65.0))
    np.savez(tmp_path / "badt.npz", current=np.zeros(3), v=np.zeros(3), t=[0.0, 0.1, 0.3])
    cases = {
        "missing config": (lambda: [str(tmp_path / "none.toml")], "cannot read config"),
        "yaml config": (lambda: [_write(tmp_path / "c.yaml", "a: 1")], "must be a .toml or .json"),
        "json list": (lambda: [cfg([1, 2])], "must be a table of keys (a JSON object), got a list"),
        "json syntax": (lambda: [_write(tmp_path / "c.json", "{")], "c.json: Expecting"),
        "toml syntax": (
            lambda: [_write(tmp_path / "c.toml", "model = \n")],
            "c.toml: Invalid value",
        ),
        "unknown model": (lambda: [cfg({**good, "model": "Nope"})], "unknown model 'Nope'"),
        "abstract model": (
            lambda: [cfg({**good, "model": "AbstractNeuronModel"})],
            "unknown model",
        ),
        "model param typo": (
            lambda: [
                _write(
                    tmp_path / "c.toml",
                    'model = "AdEx"\n[model_params]\ntauw = 1.0\n'
                    '[data]\nfile = "rec.npz"\n[fit]\nparams = ["a"]\n',
                )
            ],
            "model_params: AdEx has no parameter 'tauw'",
        ),
        "model param value": (
            lambda: [cfg(with_("model_params", g_l=[1]))],
            "model_params.g_l must be a number",
        ),
        "unknown top key": (lambda: [cfg({**good, "modle": 1})], "unknown config key 'modle'"),
        "unknown fit key": (lambda: [cfg(with_("fit", stpes=3))], "unknown config key 'fit.stpes'"),
        "wrong type": (
            lambda: [cfg(with_("fit", steps="300"))],
            "fit.steps must be int, got '300'",
        ),
        "bool as int": (lambda: [cfg(with_("fit", restarts=True))], "fit.restarts must be int"),
        "nan float": (
            lambda: [
                _write(
                    tmp_path / "c.toml",
                    'model = "HodgkinHuxley"\n[data]\n'
                    'file = "rec.npz"\n[fit]\nparams = ["g_l"]\ntau = nan\n',
                )
            ],
            "fit.tau must be a finite float",
        ),
        "bad loss": (lambda: [cfg(with_("fit", loss="mae"))], "fit.loss must be one of trace_mse"),
        "missing params": (lambda: [cfg({**good, "fit": {}})], "fit.params is required"),
        "section not table": (lambda: [cfg({**good, "output": 3})], "[output] must be a table"),
        "optimizer option": (
            lambda: [cfg(with_("fit", optimizer={"name": "adam", "lr": 0.1}))],
            "optax.adam does not accept these options",
        ),
        "optimizer name": (
            lambda: [cfg(with_("fit", optimizer={"name": "adamw2"}))],
            "optax has no optimiser 'adamw2'",
        ),
        "not an optimizer": (
            lambda: [cfg(with_("fit", optimizer={"name": "tree_utils"}))],
            "optax has no optimiser",
        ),
        "missing data": (lambda: [cfg(with_("data", file="none.npz"))], "does not exist"),
        "truncated npz": (
            lambda: [cfg(with_("data", file="cut.npz"))],
            "cut.npz: not a readable .npz",
        ),
        "empty csv": (
            lambda: [cfg(with_("data", file="empty.csv", dt=0.1))],
            "empty.csv: the csv is empty",
        ),
        "ragged csv": (
            lambda: [cfg(with_("data", file="ragged.csv", dt=0.1))],
            "ragged.csv: malformed csv (Some errors were detected ! Line #3",
        ),
        "header-only csv": (
            lambda: [cfg(with_("data", file="header.csv", dt=0.1))],
            "'current' must be a non-empty 1-D numeric array",
        ),
        "same length without t": (
            lambda: [cfg(with_("data", file="same.csv", dt=0.1))],
            "both have 5 samples; say how they align",
        ),
        "no current": (lambda: [cfg(with_("data", file="nocur.npz", dt=0.1))], "'current'"),
        "no dt": (lambda: [cfg(with_("data", file="nodt.npz"))], "data.dt is required"),
        "negative dt": (lambda: [cfg(with_("data", dt=-0.1))], "positive finite"),
        "uneven t": (lambda: [cfg(with_("data", file="badt.npz"))], "'t' must be uniformly spaced"),
        "unknown fit param": (lambda: [cfg(with_("fit", params=["nope"]))], "nope"),
        "stimulus and current": (
            lambda: [cfg({**good, "stimulus": step})],
            "both [stimulus] in the config and a 'current' array/column in data.file rec.npz",
        ),
        "stimulus kind": (
            lambda: [cfg({**good_v, "stimulus": [step, {"kind": "Square"}]})],
            "stimulus[1].kind must be one of Constant, Pulse, Step, Ramp, Sine, got 'Square'",
        ),
        "stochastic stimulus": (
            lambda: [cfg({**good_v, "stimulus": {"kind": "WhiteNoise", "std": 1.0}})],
            "stimulus.kind = 'WhiteNoise': a stochastic stimulus is not supported",
        ),
        "stimulus field": (
            lambda: [cfg({**good_v, "stimulus": [{**step, "duration": 1.0}]})],
            "unknown config key 'stimulus[0].duration' (Step takes onset, amplitude)",
        ),
        "stimulus value": (
            lambda: [cfg({**good_v, "stimulus": {**step, "amplitude": "10"}})],
            "stimulus.amplitude must be a number, got '10'",
        ),
        "stimulus missing field": (
            lambda: [cfg({**good_v, "stimulus": {"kind": "Sine", "amplitude": 1.0}})],
            "stimulus.frequency is required (Sine takes amplitude, frequency, phase, offset)",
        ),
        "stimulus not a table": (
            lambda: [cfg({**good_v, "stimulus": 3})],
            "stimulus must be a [stimulus] table or a non-empty [[stimulus]] array",
        ),
        "stimulus rejected by its class": (
            lambda: [
                cfg(
                    {
                        **good_v,
                        "stimulus": {"kind": "Pulse", "onset": 0, "duration": -1.0, "amplitude": 1},
                    }
                )
            ],
            "stimulus: Pulse",
        ),
        "no duration": (
            lambda: [cfg({**good_s, "stimulus": step})],
            "data.duration is required with a [stimulus] and no 'v'",
        ),
        "duration not whole": (
            lambda: [
                cfg({**good_s, "data": {**good_s["data"], "duration": 1.05}, "stimulus": step})
            ],
            "data.duration = 1.05 ms must be a positive whole number of data.dt = 0.1 ms steps",
        ),
        "duration with v": (
            lambda: [
                cfg({**good_v, "data": {**good_v["data"], "duration": 1.0}, "stimulus": step})
            ],
            "data.duration is only for a [stimulus] with spike_times-only data",
        ),
    }
    make_argv, match = cases[name]
    return make_argv(), match


FIT_CASES = [
    "missing config",
    "yaml config",
    "json list",
    "json syntax",
    "toml syntax",
    "unknown model",
    "abstract model",
    "model param typo",
    "model param value",
    "unknown top key",
    "unknown fit key",
    "wrong type",
    "bool as int",
    "nan float",
    "bad loss",
    "missing params",
    "section not table",
    "optimizer option",
    "optimizer name",
    "not an optimizer",
    "missing data",
    "truncated npz",
    "empty csv",
    "ragged csv",
    "header-only csv",
    "same length without t",
    "no current",
    "no dt",
    "negative dt",
    "uneven t",
    "unknown fit param",
    "stimulus and current",
    "stimulus kind",
    "stochastic stimulus",
    "stimulus field",
    "stimulus value",
    "stimulus missing field",
    "stimulus not a table",
    "stimulus rejected by its class",
    "no duration",
    "duration not whole",
    "duration with v",
]


@pytest.mark.parametrize("name", FIT_CASES)
def test_fit_user_errors(tmp_path, capsys, monkeypatch, name):
    argv, match = _fit_case(tmp_path, name)
    if name != "unknown fit param":  # every other case must fail before any fitting
        monkeypatch.setattr(scjax, "fit", _boom(AssertionError("fit was reached")))
    _assert_user_error(capsys, ["fit", *argv, "--no-progress"], "scjax fit", match)


# --- fit: the config table is the help and the parser --------------------------------------


def test_fit_help_lists_every_key_with_type_and_default(capsys):
    code, out, err = _call(capsys, ["fit", "--help"])
    assert code == 0 and err == ""
    sections = {k.section for k in _fit.CONFIG}
    for section in sections - {""}:
        assert f"[{section}]" in out
    reference = out[out.index("config reference") :].splitlines()
    for key in _fit.CONFIG:
        line = next(line for line in reference if line.split()[:1] == [key.name])
        assert key.type in line.split(), line
        default = (
            "unset"
            if key.default is None
            else "required"
            if key.default is _fit.REQUIRED
            else json.dumps(key.default)
        )
        assert default in line.split(), line


def test_fit_table_defaults_are_the_library_defaults():
    import inspect

    sig = inspect.signature(scjax.fit).parameters
    table = {k.path: k.default for k in _fit.CONFIG}
    for name in (
        "tau",
        "init_spread",
        "surrogate",
        "restarts",
        "loss",
        "subthreshold",
        "events",
        "max_spikes",
    ):
        assert table[f"fit.{name}"] == sig[name].default, name
    assert set(_fit.LOSSES) <= set(scjax.fitting.LOSS_NAMES)
    # every key the parser accepts is in the table, and vice versa
    full = {
        "model": "LIF",
        "model_params": {},
        "data": {"file": "x.npz", "dt": 0.1, "spike_threshold": 0.0},
        "fit": {
            "params": ["tau_m"],
            "loss": "trace_mse",
            "tau": 1.0,
            "subthreshold": 1.0,
            "steps": 1,
            "restarts": 1,
            "seed": 0,
            "init_spread": 0.1,
            "surrogate": "none",
            "events": "in_step",
            "max_spikes": 10,
            "optimizer": {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9},
        },
        "output": {"dir": "o"},
    }
    values = _fit.resolve_config(full)
    stimulus_keys = {k.path for k in _fit.CONFIG if k.section == _fit.STIMULUS}
    assert set(values) == {k.path for k in _fit.CONFIG} - stimulus_keys | {"fit.optimizer.momentum"}
    # the [stimulus] keys of the table are the fields of the constructors they name
    fields = {
        name
        for kind in _fit.STIMULUS_KINDS
        for name in inspect.signature(getattr(scjax.stimulus, kind)).parameters
    }
    assert stimulus_keys == {f"stimulus.{n}" for n in fields | {"kind"}}


def test_alignment_with_a_time_column():
    # Rows (t_k, I_k, v_k): v_k is the state at t_k and I_k holds over [t_k, t_k + dt), so
    # the last current sample has no response: T rows are T − 1 steps from t0 = t_0.
    t = 5.0 + 0.1 * np.arange(6)
    rec = _fit.align({"t": t, "current": np.arange(6.0), "v": -65.0 + t}, None, "x.csv")
    assert rec.dt == pytest.approx(0.1) and rec.t0 == 5.0
    np.testing.assert_array_equal(rec.current, np.arange(5.0))
    # The voltage is the library's Recording, each sample with its time from the file.
    assert isinstance(rec.voltage, scjax.fitting.Recording)
    np.testing.assert_array_equal(rec.voltage.t, t)
    np.testing.assert_array_equal(rec.voltage.v, -65.0 + t)
    rec = _fit.align(
        {"current": np.zeros(5), "v": np.arange(6.0), "dt": np.asarray(0.2)}, None, "x.npz"
    )
    assert rec.dt == 0.2 and rec.t0 == 0.0 and rec.current.shape == (5,)
    np.testing.assert_allclose(rec.voltage.t, 0.2 * np.arange(6), rtol=0, atol=1e-15)
    with pytest.raises(_common.UsageError, match="disagrees"):
        _fit.align({"t": t, "current": np.zeros(6), "v": t}, 0.2, "x.csv")
    with pytest.raises(_common.UsageError, match="x.npz: Recording: v must be finite"):
        _fit.align({"current": np.zeros(2), "v": [0.0, np.nan, 1.0], "dt": 0.1}, None, "x.npz")


def test_spike_targets_are_the_recording_crossings():
    # A recorded voltage gives the spike losses the library's crossing times; spike times in
    # the file take precedence.
    v = np.array([-70.0, 10.0, -70.0, -70.0, 5.0, 20.0])
    rec = _fit.align({"current": np.zeros(5), "v": v, "dt": 0.5}, None, "x.npz")
    np.testing.assert_array_equal(_fit.target_for("van_rossum", rec, 0.0), [0.5, 2.0])
    assert _fit.target_for("trace_mse", rec, 0.0) is rec.voltage
    given = _fit.align(
        {"current": np.zeros(5), "v": v, "dt": 0.5, "spike_times": np.array([1.0])}, None, "x"
    )
    np.testing.assert_array_equal(_fit.target_for("spike_count", given, 0.0), [1.0])


# --- fit: end to end, divergence, atomic outputs -------------------------------------------


def test_fit_end_to_end_from_a_toml_config(tmp_path, capsys):
    _hh_recording(tmp_path)
    cfg = _write(tmp_path / "cfg.toml", FIT_TOML.format(steps=60, out="out"))
    code, out, err = _call(capsys, ["fit", cfg, "--no-progress"])
    assert code == 0 and err == "", err
    summary = json.loads((tmp_path / "out" / "fitted_model.json").read_text())
    assert summary["fitted"]["g_l"] == pytest.approx(0.3, rel=1e-3)
    assert summary["params"]["g_na"] == 120.0
    assert json.loads(out)["g_l"] == summary["fitted"]["g_l"]
    assert (tmp_path / "out" / "fit.png").stat().st_size > 0
    assert np.loadtxt(tmp_path / "out" / "loss.csv", delimiter=",").shape == (60,)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "fit.png",
        "fitted_model.json",
        "loss.csv",
    ]  # no temporary files left behind


def test_fit_with_a_stimulus_equals_the_fit_with_its_dense_current(tmp_path, capsys):
    # Step + Constant is piecewise constant per step, so its samples (at t_n = n·dt, held
    # over the step) are exactly the dense column: the two fits must agree bit for bit.
    dt, n, onset = 0.05, 120, 2.025  # the onset mid-step: no rounding question at the edge
    dense = np.where(np.arange(n) * dt >= onset, 10.0, 0.0) + 1.0
    stim = scjax.stimulus.Step(onset=onset, amplitude=10.0) + scjax.stimulus.Constant(1.0)
    np.testing.assert_array_equal(scjax.stimulus.sample_trace(stim, n, dt), dense)
    v = np.asarray(scjax.simulate(scjax.HodgkinHuxley(), dense, dt).v)
    np.savez(tmp_path / "rec.npz", current=dense, v=v, dt=dt)
    np.savez(tmp_path / "v.npz", v=v, dt=dt)
    stimulus = (
        f'[[stimulus]]\nkind = "Step"\nonset = {onset}\namplitude = 10.0\n'
        '[[stimulus]]\nkind = "Constant"\namplitude = 1.0\n'
    )
    base = FIT_TOML.format(steps=40, out="{out}")
    summaries = []
    for out, text in [
        ("dense", base.format(out="dense")),
        ("stim", base.format(out="stim").replace("rec.npz", "v.npz") + stimulus),
    ]:
        code, _, err = _call(
            capsys, ["fit", _write(tmp_path / f"{out}.toml", text), "--no-progress"]
        )
        assert code == 0, err
        summaries.append(json.loads((tmp_path / out / "fitted_model.json").read_text()))
    dense_fit, stim_fit = summaries
    assert stim_fit["fitted"] == dense_fit["fitted"] and stim_fit["loss"] == dense_fit["loss"]
    assert dense_fit["fitted"]["g_l"] == pytest.approx(0.3, rel=1e-2)


def test_spike_times_data_with_a_stimulus_take_the_window_from_data_duration(
    tmp_path, capsys, monkeypatch
):
    seen = {}

    def recording_fit(model, **kw):
        seen.update(kw)
        return _FakeResult(model, 0.1, 0.3)

    monkeypatch.setattr(scjax, "fit", recording_fit)
    np.savez(tmp_path / "spikes.npz", spike_times=[3.0, 7.5])
    text = (
        FIT_TOML.format(steps=2, out="out")
        .replace('file = "rec.npz"', 'file = "spikes.npz"\ndt = 0.05\nduration = 12.0')
        .replace("trace_mse", "van_rossum")
    ) + '[stimulus]\nkind = "Pulse"\nonset = 1.0\nduration = 5.0\namplitude = 10.0\n'
    code, _, err = _call(capsys, ["fit", _write(tmp_path / "c.toml", text), "--no-progress"])
    assert code == 0, err
    assert seen["n_steps"] == 240 and seen["current"] == scjax.stimulus.Pulse(1.0, 5.0, 10.0)
    np.testing.assert_array_equal(seen["target"], [3.0, 7.5])


class _FakeResult:
    def __init__(self, model, loss, value):
        self.model = scjax.HodgkinHuxley(g_l=value) if math.isfinite(value) else model
        self.params = {"g_l": value}
        self.loss = loss
        self.best_restart = 0
        self.loss_history = np.array([[1.0, loss]])
        self.wall_time_s = 0.0


def _fake_fit(loss, value):
    return lambda model, **kw: _FakeResult(model, loss, value)


def test_diverging_fit_reports_and_writes_nothing(tmp_path, capsys, monkeypatch):
    _hh_recording(tmp_path)
    cfg = _write(tmp_path / "cfg.toml", FIT_TOML.format(steps=2, out="out"))
    for loss, value in [(math.inf, 0.3), (math.nan, math.nan), (0.1, math.inf)]:
        monkeypatch.setattr(scjax, "fit", _fake_fit(loss, value))
        code, out, err = _call(capsys, ["fit", cfg, "--no-progress"])
        (line,) = err.strip().splitlines()
        assert code == 1 and line.startswith("scjax fit: error: the fit diverged"), err
        assert out == "" and not (tmp_path / "out").exists()


def test_fit_config_events_reach_the_library(tmp_path, capsys, monkeypatch):
    _hh_recording(tmp_path)
    seen = {}

    def recording_fit(model, **kw):
        seen.update(kw)
        return _FakeResult(model, 0.1, 0.3)

    monkeypatch.setattr(scjax, "fit", recording_fit)
    text = FIT_TOML.format(steps=2, out="out").replace(
        'loss = "trace_mse"', 'loss = "spike_times"\nevents = "in_step"\nmax_spikes = 12'
    )
    code, _, err = _call(capsys, ["fit", _write(tmp_path / "cfg.toml", text), "--no-progress"])
    assert code == 0, err
    assert (seen["events"], seen["max_spikes"], seen["loss"]) == ("in_step", 12, "spike_times")
    assert seen["surrogate"] == "auto"  # the library picks None for in-step runs
    bad = text.replace('events = "in_step"', 'events = "sometimes"')
    _assert_user_error(
        capsys,
        ["fit", _write(tmp_path / "bad.toml", bad), "--no-progress"],
        "scjax fit",
        "fit.events must be one of end_of_step, in_step",
    )


def test_really_diverging_fit_is_reported(tmp_path, capsys):
    # Forward Euler at dt = 1 ms is unstable for Hodgkin–Huxley (its fastest rate, the m
    # gate's, is > 2 /ms at the upstroke): the state overflows on every restart.
    current = np.full(40, 10.0)
    np.savez(tmp_path / "rec.npz", current=current, v=np.full(41, -65.0), dt=1.0)
    cfg = _write(tmp_path / "cfg.toml", FIT_TOML.format(steps=2, out="out"))
    code, out, err = _call(capsys, ["fit", cfg, "--no-progress"])
    (line,) = err.strip().splitlines()
    assert code in (1, 2) and line.startswith("scjax fit: error:"), err
    assert "diverge" in line or "finite" in line, line
    assert not (tmp_path / "out").exists()
    assert out == ""


def _fit_writing(tmp_path, capsys, monkeypatch, out_dir):
    _hh_recording(tmp_path)
    monkeypatch.setattr(scjax, "fit", _fake_fit(0.01, 0.3))
    cfg = _write(tmp_path / "cfg.toml", FIT_TOML.format(steps=2, out=out_dir))
    return _call(capsys, ["fit", cfg, "--no-progress"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions (chmod 555)")
def test_unwritable_output_folder(tmp_path, capsys, monkeypatch):
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    try:
        code, _, err = _fit_writing(tmp_path, capsys, monkeypatch, "ro")
    finally:
        (tmp_path / "ro").chmod(0o755)
    (line,) = err.strip().splitlines()
    assert code == 2 and line.startswith("scjax fit: error: cannot write"), err
    assert list((tmp_path / "ro").iterdir()) == []


def test_output_folder_that_cannot_be_created(tmp_path, capsys, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    code, _, err = _fit_writing(tmp_path, capsys, monkeypatch, "file/out")
    (line,) = err.strip().splitlines()
    assert code == 2 and line.startswith("scjax fit: error: cannot write"), err
    assert "Not a directory" in line and (tmp_path / "file").read_text() == "not a folder"


def test_full_disk_mid_write_leaves_nothing(tmp_path, capsys, monkeypatch):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "fitted_model.json").write_text('{"old": true}')

    def savetxt(path, *args, **kwargs):
        with open(path, "w") as f:
            f.write("0.1,0.")  # a partial write, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

    monkeypatch.setattr(np, "savetxt", savetxt)
    code, _, err = _fit_writing(tmp_path, capsys, monkeypatch, "out")
    (line,) = err.strip().splitlines()
    assert code == 2 and "cannot write" in line and "loss.csv" in line, line
    assert "No space left on device" in line
    # The previous result is untouched and no temporary file is left behind.
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["fitted_model.json"]
    assert json.loads((tmp_path / "out" / "fitted_model.json").read_text()) == {"old": True}


def test_staged_outputs_all_or_nothing(tmp_path):
    with pytest.raises(RuntimeError), _common.staged_outputs() as staged:
        staged.write_text(tmp_path / "a.txt", "a")
        raise RuntimeError("later failure")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(_common.RunFailed, match="non-finite"):
        _common.write_json(tmp_path / "b.json", {"x": float("nan")})
    assert list(tmp_path.iterdir()) == []
    _common.write_json(tmp_path / "c.json", {"x": 1.5})
    assert json.loads((tmp_path / "c.json").read_text()) == {"x": 1.5}
    assert _common.json_safe({"a": [1.0, float("inf")], "b": float("nan")}) == {
        "a": [1.0, None],
        "b": None,
    }


# --- parity --------------------------------------------------------------------------------


class _Shifted(AbstractBackend):
    """A backend that returns JAX's trajectory with the voltage shifted or a spike added."""

    name: str
    shift: float = 0.0
    extra_spike: bool = False
    reason: str | None = None
    supports_adaptive: ClassVar[bool] = False

    def solve(self, model, t_span, current=0.0, *, saveat=0.1, current_dt=None, y0=None):
        raise ValueError("fixed-step only")

    def available(self):
        return True if self.reason is None else self.reason

    def simulate(self, model, current, dt, integrator=None, y0=None):
        tr = parity.JaxBackend().simulate(model, current, dt, integrator, y0)
        y = np.asarray(tr.y).copy()
        y[1:, 0] += self.shift
        spikes = np.asarray(tr.spikes).copy()
        if self.extra_spike:
            spikes[0] = True
        return scjax.Trajectory(
            t=tr.t,
            y=y,
            spikes=spikes,
            spike_signal=spikes * 1.0,
            state_names=tr.state_names,
            diverged=tr.diverged,
        )


ARGS = ["--models", "izhikevich", "--integrators", "euler", "--n-random", "1"]


def _run(monkeypatch, tmp_path, capsys, backends, extra=()):
    for b in backends:
        monkeypatch.setitem(parity.BACKENDS, b.name, b)
    out = tmp_path / "parity.json"
    code = main(
        ["parity", *ARGS, "--backends", *[b.name for b in backends], "--json", str(out), *extra]
    )
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


def test_cli_diverged_backend_is_strict_json(monkeypatch, tmp_path, capsys):
    code, report, _ = _run(monkeypatch, tmp_path, capsys, [_Shifted("inf", shift=np.inf)])
    assert code == 1 and report["rows"][0]["max_abs"] is None and not report["passed"]


def test_cli_reports_unavailable_backends(monkeypatch, tmp_path, capsys):
    gone = _Shifted("gone", reason="missing-runtime (no such thing)")
    code, report, text = _run(monkeypatch, tmp_path, capsys, [_Shifted("same"), gone])
    assert code == 0 and report["backends"]["gone"] == "missing-runtime (no such thing)"
    assert "missing-runtime (no such thing)" in text
    code, _, _ = _run(monkeypatch, tmp_path, capsys, [_Shifted("same"), gone], ["--strict"])
    assert code == 1


def test_parity_with_zero_comparisons_fails(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(parity.BACKENDS, "gone", _Shifted("gone", reason="missing-runtime (x)"))
    code, out, err = _call(
        capsys,
        [
            "parity",
            *ARGS,
            "--n-random",
            "0",
            "--steps",
            "20",
            "--backends",
            "gone",
            "--json",
            str(tmp_path / "p.json"),
        ],
    )
    (line,) = err.strip().splitlines()
    assert code == 1
    assert line == (
        "scjax parity: error: nothing was compared: no requested backend is "
        "available (gone: missing-runtime (x))"
    )
    assert "PASS" not in out and "0/0" not in out
    assert json.loads((tmp_path / "p.json").read_text())["n_checked"] == 0


def test_cli_runs_the_native_backends(tmp_path, capsys):
    from scjax.backends import native

    built = [b for b, s in native.available().items() if s is True]
    if not built:
        pytest.skip(f"no native library built: {native.available()}")
    out = tmp_path / "p.json"
    code = main(
        [
            "parity",
            "--models",
            "hodgkin_huxley",
            "--integrators",
            "rk4",
            "--n-random",
            "0",
            "--backends",
            *built,
            "--json",
            str(out),
        ]
    )
    report = json.loads(out.read_text())
    assert code == 0 and report["n_checked"] == len(built) and report["passed"]
    assert all(r["max_rel"] < 1e-10 for r in report["rows"])


# --- analyze, reference, demo: one small run each ------------------------------------------


def test_cli_analyze_writes_json_and_plot(tmp_path, capsys):
    out_json, out_png = tmp_path / "lif.json", tmp_path / "lif.png"
    assert (
        main(
            [
                "analyze",
                "lif",
                "--current",
                "20",
                "--currents",
                "0:40:5",
                "--no-simulate",
                "--json",
                str(out_json),
                "--plot",
                str(out_png),
            ]
        )
        == 0
    )
    data = json.loads(out_json.read_text())
    # LIF: τ dV/dt = −(V − V_rest) + R I has the single stable node V* = V_rest + R I = −45.
    (fp,) = data["fixed_points"]
    assert fp["state"] == [pytest.approx(-45.0, abs=1e-12)]
    assert fp["kind"] == "stable node" and fp["eigenvalues_real"] == [pytest.approx(-1 / 20)]
    assert data["bifurcations"] == []
    assert out_png.stat().st_size > 10_000
    assert "stable node" in capsys.readouterr().out


def test_cli_reference_solves_and_times(tmp_path, capsys):
    out = tmp_path / "ref.json"
    code, text, err = _call(
        capsys, ["reference", "10", "--repeats", "2", "--systems", "lif", "--out", str(out)]
    )
    assert code == 0, err
    table = json.loads(out.read_text())
    (row,) = table["systems"]
    assert row["system"] == "lif" and row["n_spikes"] == 0 and row["result"] == 0
    assert row["cold_s"] > 0 and 0 < row["warm_min_ms"] <= row["warm_median_ms"]
    # LIF from rest under the suite's I = 14.9: V(t) = V_rest + R I (1 − e^{−t/τ}), t = 1 ms.
    lif = scjax.LIF()
    expect = lif.v_rest + lif.r_m * 14.9 * (1 - math.exp(-1.0 / lif.tau_m))
    assert row["final_state_0"] == pytest.approx(expect, abs=1e-7)
    assert "lif" in text and "ms/solve" in text


def test_cli_demo_small(tmp_path, capsys, monkeypatch):
    import dataclasses

    from scjax.cli import _demo

    monkeypatch.setattr(_demo, "CASES", (("LIF", {}, 20.0, 0.1, 400),))
    izh = dataclasses.replace(parity.CASES["izhikevich"], integrators=("euler",))
    monkeypatch.setattr(parity, "CASES", {"izhikevich": izh})
    monkeypatch.setattr(parity, "BACKENDS", {"same": _Shifted("same")})
    monkeypatch.setattr(scjax.models, "INTEGRATORS", ("euler", "rk4"))
    code, out, err = _call(capsys, ["demo", "--out", str(tmp_path), "--parity-random", "0"])
    assert code == 0, err
    summary = json.loads((tmp_path / "demo_summary.json").read_text())
    # LIF under I = 20 for 40 ms: V → −45 > V_th = −50 with τ = 20 ms, first spike at
    # t = τ ln(20 / 5) = 27.7 ms, then every 27.7 ms: exactly one spike in 40 ms.
    assert summary["LIF"]["euler"]["spikes"] == 1
    assert summary["LIF"]["rk4"]["spikes"] == 1 and set(summary["LIF"]) == {"euler", "rk4"}
    assert (tmp_path / "demo_traces.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "parity.json").read_text())["passed"]
    assert "PASS: 1/1" in out


def test_run_time_check_of_a_compiled_run_is_a_user_error(capsys, monkeypatch):
    import equinox as eqx

    from scjax.cli import _analyze

    err = eqx.EquinoxRuntimeError("state became non-finite\n\n-----\nequinox's generic advice")
    monkeypatch.setattr(_analyze, "run", _boom(err))
    line = _assert_user_error(capsys, ["analyze", "lif"], "scjax analyze", "non-finite")
    assert line == "scjax analyze: error: state became non-finite"
