"""`scjax fit CONFIG`: fit model parameters to a recording described by a TOML or JSON file.

Example (TOML)::

    model = "AdEx"
    [model_params]
    a = 5.0
    b = 60.0
    tau_w = 180.0

    [data]
    file = "recording.npz"
    dt = 0.1

    [fit]
    params = ["a", "b", "tau_w"]
    loss = "van_rossum"
    steps = 300
    restarts = 8
    [fit.optimizer]
    name = "adam"
    learning_rate = 0.03

    [output]
    dir = "fit_out"

Data files: a .npz with arrays, or a .csv with a header row naming its columns (`#` starts a
comment). `current` (one sample per step, held constant over the step) is required; `v` is the
recorded voltage; `spike_times` (ms, .npz only) may replace `v` for the spike losses; `t`
(ms, optional) is the time of each `v` sample. Alignment: with T current samples, `v` holds
either T+1 samples (v at t0, t0 + dt, ..., t0 + T·dt: the initial state included, as
`scjax.simulate` returns it) or, with a `t` column, one sample per row (`v[k]` at `t[k]`, the
current over [t[k], t[k] + dt): the last current sample then has no response and is dropped).
Same-length `current` and `v` without `t` are ambiguous and rejected. The voltage reaches
`scjax.fit` as a `scjax.fitting.Recording` (each sample with its time), and the spike losses
take its upward crossings of `data.spike_threshold` (`Recording.spike_times`).

Stimulus: instead of a `current` column, the config may describe the injected current with
`scjax.stimulus` objects, one `[stimulus]` table or an array of `[[stimulus]]` tables (summed),
each with a `kind` (Constant, Pulse, Step, Ramp, Sine) and that constructor's fields as numbers
(onset and duration in ms, frequency in Hz, amplitude in the model's current units)::

    [[stimulus]]
    kind = "Step"
    onset = 50.0
    amplitude = 10.0
    [[stimulus]]
    kind = "Sine"
    amplitude = 2.0
    frequency = 10.0

The data file then holds no `current` (both given: an error). The window comes from the voltage:
`v` of T+1 samples (or T+1 rows with a `t` column) gives T steps; spike_times-only data need
`data.duration` (ms, a whole number of steps). Stochastic stimuli (WhiteNoise,
OrnsteinUhlenbeck) are refused: store one realisation as a `current` column
(`scjax.stimulus.sample_trace`).

Outputs (written only when the fit succeeds, each atomically): fitted_model.json (strict
JSON), loss.csv (loss per step and restart), fit.png (with matplotlib installed).
"""

import dataclasses
import inspect
import json
import math
import pathlib
import warnings
import zipfile
from collections.abc import Callable
from typing import Any

from ._common import RunFailed, UsageError, one_line, staged_outputs

HELP = "fit model parameters from a TOML/JSON config"
X64 = False  # float64 on request: --x64


class _Required:
    def __repr__(self) -> str:
        return "required"


REQUIRED = _Required()
#: the default of a key that is not set
UNSET = None


@dataclasses.dataclass(frozen=True)
class ConfigKey:
    """One key of the fit config: the single source of the parser and of `--help`."""

    section: str  # "" for the top level, else a table such as "fit.optimizer"
    name: str
    type: str  # "str" | "float" | "int" | "list[str]" | "table"
    default: object  # REQUIRED, UNSET (None) or a value
    help: str
    choices: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return f"{self.section}.{self.name}" if self.section else self.name


LOSSES: tuple[str, ...] = ("trace_mse", "van_rossum", "spike_count", "firing_rate", "spike_times")
SURROGATES: tuple[str, ...] = ("auto", "fast_sigmoid", "sigmoid", "none")
EVENTS: tuple[str, ...] = ("end_of_step", "in_step")
#: the `kind`s of a [stimulus] table: deterministic constructors of `scjax.stimulus`
STIMULUS_KINDS: tuple[str, ...] = ("Constant", "Pulse", "Step", "Ramp", "Sine")
#: the [stimulus] keys, parsed by `stimulus_specs` rather than the generic walk
STIMULUS = "stimulus"

CONFIG: tuple[ConfigKey, ...] = (
    ConfigKey("", "model", "str", REQUIRED, "a model class of scjax.models, e.g. AdEx"),
    ConfigKey(
        "",
        "model_params",
        "table",
        {},
        "the initial guess: field = value; fields not given keep their defaults",
    ),
    ConfigKey(
        "",
        "stimulus",
        "table",
        UNSET,
        "the injected current as scjax.stimulus objects instead of the data's `current`: one "
        "[stimulus] table, or an array of [[stimulus]] tables that are summed",
    ),
    ConfigKey(
        "data", "file", "str", REQUIRED, "the recording, .npz or .csv (relative to the config file)"
    ),
    ConfigKey(
        "data",
        "dt",
        "float",
        UNSET,
        "step, ms; unset: the .npz scalar `dt`, or the spacing of the `t` column",
    ),
    ConfigKey(
        "data",
        "spike_threshold",
        "float",
        0.0,
        "mV; spike losses on a `v` recording: a spike is an upward crossing of it "
        "(below before, at or above after; `scjax.fitting.Recording.spike_times`)",
    ),
    ConfigKey(
        "data",
        "duration",
        "float",
        UNSET,
        "ms; with a [stimulus] and spike_times-only data: the window (a whole number of "
        "data.dt steps); otherwise the voltage or the current sets it",
    ),
    ConfigKey("fit", "params", "list[str]", REQUIRED, "the fields to fit"),
    ConfigKey("fit", "loss", "str", "trace_mse", "what to match", LOSSES),
    ConfigKey("fit", "tau", "float", 10.0, "van_rossum kernel time constant, ms"),
    ConfigKey(
        "fit",
        "subthreshold",
        "float",
        UNSET,
        "trace_mse: only samples of the recording below this voltage (mV) count",
    ),
    ConfigKey("fit", "steps", "int", 200, "optimiser steps per restart"),
    ConfigKey("fit", "restarts", "int", 1, "independent initialisations (one vmapped run)"),
    ConfigKey(
        "fit",
        "seed",
        "int",
        UNSET,
        "seed of the restart jitter; unset: 0 when restarts > 1, none (start at the "
        "guess itself) otherwise",
    ),
    ConfigKey(
        "fit",
        "init_spread",
        "float",
        0.2,
        "standard deviation of the restart jitter (about the relative spread)",
    ),
    ConfigKey(
        "fit",
        "surrogate",
        "str",
        "auto",
        "spike-threshold gradient surrogate; auto: fast_sigmoid with events = end_of_step, "
        "none with in_step",
        SURROGATES,
    ),
    ConfigKey(
        "fit",
        "events",
        "str",
        "end_of_step",
        "where spikes happen: at the end of the step (the historical rule, spike losses "
        "through the surrogate) or located inside it (in_step: van_rossum and spike_times "
        "compare the located spike times, exactly differentiated; best with a high-order "
        'integrator, model_params.integrator = "rk4", and the data\'s spike_times)',
        EVENTS,
    ),
    ConfigKey(
        "fit",
        "max_spikes",
        "int",
        UNSET,
        "in_step spike-time losses: the spike-time buffer per simulation; unset: twice the "
        "data's spike count + 8",
    ),
    ConfigKey(
        "fit.optimizer",
        "name",
        "str",
        "adam",
        "an optax optimiser factory (adam, sgd, lbfgs, ...); any other key of this "
        "table is passed to it as a keyword (checked against its signature)",
    ),
    ConfigKey("fit.optimizer", "learning_rate", "float", 1e-2, "the optimiser's learning rate"),
    ConfigKey(
        "stimulus", "kind", "str", REQUIRED, "the scjax.stimulus constructor", STIMULUS_KINDS
    ),
    ConfigKey("stimulus", "amplitude", "float", UNSET, "Constant, Pulse, Step, Sine (required)"),
    ConfigKey("stimulus", "onset", "float", UNSET, "ms; Pulse, Step, Ramp (required)"),
    ConfigKey("stimulus", "duration", "float", UNSET, "ms; Pulse, Ramp (required)"),
    ConfigKey("stimulus", "slope", "float", UNSET, "current units per ms; Ramp (required)"),
    ConfigKey("stimulus", "frequency", "float", UNSET, "Hz; Sine (required)"),
    ConfigKey("stimulus", "phase", "float", 0.0, "rad; Sine"),
    ConfigKey("stimulus", "offset", "float", 0.0, "Sine"),
    ConfigKey(
        "output", "dir", "str", "fit_out", "folder of the outputs (relative to the config file)"
    ),
)
#: tables whose extra keys are passed on rather than rejected
OPEN_TABLES = ("fit.optimizer",)


def config_reference(width: int = 100) -> str:
    """The config format as text: every key, its type, its default (the `--help` epilog)."""
    import textwrap

    lines = ["config reference (key, type, default: meaning):"]
    section = None
    for key in CONFIG:
        if key.section != section:
            section = key.section
            lines.append(f"  [{section}]" if section else "  (top level)")
        default = (
            "unset"
            if key.default is UNSET
            else ("required" if key.default is REQUIRED else json.dumps(key.default))
        )
        text = key.help + ("; one of " + ", ".join(key.choices) if key.choices else "")
        head = f"    {key.name:16s} {key.type:10s} {default:15s}"
        lines += textwrap.wrap(
            text, width, initial_indent=head + " ", subsequent_indent=" " * (len(head) + 1)
        )
    return "\n".join(lines)


EPILOG = config_reference()


def configure(parser) -> None:
    parser.add_argument("config", type=pathlib.Path, help="TOML or JSON fit description")
    parser.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    parser.add_argument(
        "--x64",
        action="store_true",
        help="run in float64 (enables jax_enable_x64 for this process)",
    )


# --- the config ----------------------------------------------------------------------------


def load_config(path: pathlib.Path) -> dict:
    """Parse the TOML or JSON file at `path` into a table (`UsageError` otherwise)."""
    if path.suffix not in (".toml", ".json"):
        raise UsageError(f"config must be a .toml or .json file, got {path.name}")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot read config {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise UsageError(f"config {path.name} is not UTF-8 text") from None
    try:
        if path.suffix == ".json":
            config = json.loads(text)
        else:
            import tomllib

            config = tomllib.loads(text)
    except ValueError as err:  # JSONDecodeError, TOMLDecodeError
        raise UsageError(f"{path.name}: {err}") from None
    if not isinstance(config, dict):
        raise UsageError(
            f"{path.name}: the config must be a table of keys (a JSON object), "
            f"got a {type(config).__name__}"
        )
    return config


def _check_type(key: ConfigKey, value):
    ok = {
        "str": lambda v: isinstance(v, str),
        "float": lambda v: (
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        ),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "list[str]": lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v),
        "table": lambda v: isinstance(v, dict),
    }[key.type](value)
    if not ok:
        raise UsageError(
            f"{key.path} must be {'a finite ' if key.type == 'float' else ''}"
            f"{key.type}, got {value!r}"
        )
    if key.choices and value not in key.choices:
        raise UsageError(f"{key.path} must be one of {', '.join(key.choices)}, got {value!r}")
    return float(value) if key.type == "float" else value


def _parent(table: str) -> str:
    return table.rsplit(".", 1)[0] if "." in table else ""


def resolve_config(config: dict) -> dict[str, Any]:
    """The config checked against `CONFIG`: dotted key → value (defaults filled in), plus
    the open tables' extra keys under their own dotted names. Unknown keys are errors."""
    known = {key.path: key for key in CONFIG}
    tables = {k.section for k in CONFIG if k.section} | {
        k.path for k in CONFIG if k.type == "table"
    }
    values: dict[str, object] = {}

    def walk(table: dict, prefix: str):
        for name, value in table.items():
            path = f"{prefix}.{name}" if prefix else name
            if path in known:
                values[path] = _check_type(known[path], value)
            elif prefix in OPEN_TABLES:
                values[path] = value
            elif path in tables:
                if not isinstance(value, dict):
                    raise UsageError(f"[{path}] must be a table, got {value!r}")
                walk(value, path)
            else:
                children = [k.name for k in CONFIG if k.section == prefix] + [
                    t.rsplit(".", 1)[-1] for t in sorted(tables) if _parent(t) == prefix
                ]
                where = f"[{prefix}]" if prefix else "the top level"
                raise UsageError(
                    f"unknown config key {path!r} (known in {where}: "
                    f"{', '.join(dict.fromkeys(children))})"
                )

    config = dict(config)
    values[STIMULUS] = stimulus_specs(config.pop(STIMULUS, None))
    walk(config, "")
    for key in CONFIG:
        if key.section != STIMULUS and key.path not in values:
            if key.default is REQUIRED:
                raise UsageError(f"{key.path} is required ({key.help})")
            values[key.path] = key.default
    return values


def stimulus_specs(spec) -> tuple[tuple[str, str, dict[str, float]], ...] | None:
    """The [stimulus] table or [[stimulus]] array checked: one (path, kind, fields) per
    stimulus (None when not given). Kinds and fields come from `scjax.stimulus` itself."""
    if spec is None:
        return None
    if isinstance(spec, dict):
        items = [(STIMULUS, spec)]
    elif isinstance(spec, list) and spec and all(isinstance(x, dict) for x in spec):
        items = [(f"{STIMULUS}[{i}]", x) for i, x in enumerate(spec)]
    else:
        raise UsageError(
            f"{STIMULUS} must be a [stimulus] table or a non-empty [[stimulus]] array of "
            f"tables, got {spec!r}"
        )
    return tuple(_stimulus_spec(path, table) for path, table in items)


def _stimulus_spec(path: str, table: dict) -> tuple[str, str, dict[str, float]]:
    """One [stimulus] table checked against the signature of the constructor it names."""
    import scjax.stimulus

    fields = dict(table)
    kind = fields.pop("kind", None)
    if kind in ("WhiteNoise", "OrnsteinUhlenbeck"):
        raise UsageError(
            f"{path}.kind = {kind!r}: a stochastic stimulus is not supported (the fit "
            "would see one frozen draw); store that draw as the data's 'current' "
            "(scjax.stimulus.sample_trace)"
        )
    if kind not in STIMULUS_KINDS:
        got = "missing" if kind is None else f"got {kind!r}"
        raise UsageError(f"{path}.kind must be one of {', '.join(STIMULUS_KINDS)}, {got}")
    parameters = inspect.signature(getattr(scjax.stimulus, kind)).parameters
    takes = f"{kind} takes {', '.join(parameters)}"
    for name, value in fields.items():
        if name not in parameters:
            raise UsageError(f"unknown config key '{path}.{name}' ({takes})")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise UsageError(f"{path}.{name} must be a number, got {value!r}")
    missing = [n for n, p in parameters.items() if p.default is p.empty and n not in fields]
    if missing:
        raise UsageError(f"{path}.{missing[0]} is required ({takes})")
    return path, kind, {n: float(v) for n, v in fields.items()}


def build_stimulus(specs):
    """The sum of the stimuli of `stimulus_specs` (a `UsageError` names the bad table)."""
    import scjax.stimulus

    stimuli = []
    for path, kind, fields in specs:
        try:
            stimuli.append(getattr(scjax.stimulus, kind)(**fields))
        except (TypeError, ValueError) as err:
            raise UsageError(f"{path}: {one_line(err)}") from None
    total = stimuli[0]
    for one in stimuli[1:]:
        total = total + one
    return total


# --- the data ------------------------------------------------------------------------------


def load_data(path: pathlib.Path) -> dict:
    """The named arrays of a .npz or a .csv file (`UsageError` when it cannot be read)."""
    import numpy as np

    if not path.is_file():
        raise UsageError(f"data.file {str(path)!r} does not exist")
    if path.suffix == ".npz":
        data = _read_npz(path)
    elif path.suffix == ".csv":
        data = _read_csv(path)
    else:
        raise UsageError(f"data.file must be .npz or .csv, got {path.name}")
    for name, arr in data.items():
        if name == "dt":
            continue
        if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.number):
            raise UsageError(
                f"data.file {path.name}: {name!r} must be a non-empty 1-D "
                f"numeric array, got shape {arr.shape} of {arr.dtype}"
            )
    return data


def _read_npz(path: pathlib.Path) -> dict:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: np.asarray(f[k]) for k in f.files}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError) as err:
        raise UsageError(f"data.file {path.name}: not a readable .npz ({err})") from None


def _read_csv(path: pathlib.Path) -> dict:
    """The columns of a csv with a header row (`#` starts a comment), as float arrays."""
    import numpy as np

    if not path.read_text(encoding="utf-8", errors="replace").strip():
        raise UsageError(
            f"data.file {path.name}: the csv is empty; it needs a header row "
            "and data rows, e.g. 'current,v'"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy warns on odd files: reported below
        try:
            table = np.genfromtxt(path, delimiter=",", names=True, comments="#", dtype=float)
        except (ValueError, IndexError) as err:
            raise UsageError(f"data.file {path.name}: malformed csv ({one_line(err)})") from None
    if table.dtype.names is None:
        raise UsageError(
            f"data.file {path.name}: the csv needs a header row and data rows, e.g. 'current,v'"
        )
    return {name: np.atleast_1d(np.asarray(table[name], dtype=float)) for name in table.dtype.names}


@dataclasses.dataclass(frozen=True)
class FitData:
    """A data file's arrays on `scjax.fit`'s grid: step n runs from t0 + n·dt to
    t0 + (n+1)·dt under `current[n]`; the voltage is a `scjax.fitting.Recording` (its samples
    with their times, which the library aligns with the simulated states)."""

    current: object  # [T], or None when a [stimulus] gives it
    dt: float
    t0: float
    voltage: object  # scjax.fitting.Recording, or None
    spike_times: object  # ms, or None
    n_steps: int  # T


def align(
    data: dict,
    dt_config: float | None,
    file_name: str,
    *,
    stimulus: bool = False,
    duration: float | None = None,
) -> FitData:
    """Check the arrays of a data file and align them (see the module docstring). With
    `stimulus` (the config has a [stimulus]), the file holds no current and the voltage (or
    `duration`, ms, for spike_times-only data) sets the number of steps."""
    import numpy as np

    if stimulus and "current" in data:
        raise UsageError(
            f"both [stimulus] in the config and a 'current' array/column in data.file "
            f"{file_name}: give the current one way"
        )
    if not stimulus and "current" not in data:
        raise UsageError(
            f"data.file {file_name} must hold a 'current' array/column (or the config a "
            f"[stimulus]), got {sorted(data)}"
        )
    if duration is not None and not (stimulus and "v" not in data):
        raise UsageError(
            "data.duration is only for a [stimulus] with spike_times-only data (otherwise "
            "the voltage or the current gives the window)"
        )
    v = None if "v" not in data else np.asarray(data["v"], dtype=float)
    t = None if "t" not in data else np.asarray(data["t"], dtype=float)
    dt, t0 = _time_step(data, dt_config, t, v, file_name)
    if stimulus:
        current = None
        n_steps = _stimulus_steps(v, dt, duration, file_name)
    else:
        current = np.asarray(data["current"], dtype=float)
        if v is not None:
            current = _align_current(current, v, t, file_name)
        n_steps = current.shape[0]
    voltage = None if v is None else _recording(v, t, dt, t0, file_name)
    spike_times = None
    if "spike_times" in data:
        spike_times = np.asarray(data["spike_times"], dtype=float)
    return FitData(
        current=current,
        dt=dt,
        t0=t0,
        voltage=voltage,
        spike_times=spike_times,
        n_steps=n_steps,
    )


def _stimulus_steps(v, dt: float, duration: float | None, file_name: str) -> int:
    """T for a [stimulus]: `v` of T+1 samples (rows, with a `t` column), or `duration`/dt."""
    if v is not None:
        if v.shape[0] < 2:
            raise UsageError(f"data.file {file_name}: 'v' needs >= 2 samples")
        return v.shape[0] - 1
    if duration is None:
        raise UsageError(
            "data.duration is required with a [stimulus] and no 'v' in the data file "
            "(the window, ms)"
        )
    n = round(duration / dt)
    if n < 1 or abs(n * dt - duration) > 1e-6 * dt:
        raise UsageError(
            f"data.duration = {duration:g} ms must be a positive whole number of "
            f"data.dt = {dt:g} ms steps"
        )
    return n


def _time_step(data: dict, dt_config: float | None, t, v, file_name: str) -> tuple[float, float]:
    """(dt, t0): the config's `data.dt`, else the .npz scalar `dt`; a time column `t` gives
    both (and must agree with the dt given)."""
    import numpy as np

    dt, t0 = dt_config, 0.0
    if "dt" in data and dt is None:
        if np.ndim(data["dt"]) != 0 or not np.issubdtype(np.asarray(data["dt"]).dtype, np.number):
            raise UsageError(f"data.file {file_name}: 'dt' must be a scalar, got {data['dt']!r}")
        dt = float(data["dt"])
    if t is not None:
        if v is None or t.shape != v.shape:
            raise UsageError(
                f"data.file {file_name}: 't' must give the time of each 'v' "
                f"sample ({'no v' if v is None else v.shape[0]} samples), got "
                f"{t.shape[0]}"
            )
        if t.size < 2 or not np.all(np.isfinite(t)):
            raise UsageError(f"data.file {file_name}: 't' must hold >= 2 finite times")
        spacing = np.diff(t)
        step = float(np.median(spacing))
        if not step > 0 or np.max(np.abs(spacing - step)) > 1e-6 * step:
            raise UsageError(
                f"data.file {file_name}: 't' must be uniformly spaced (increasing),"
                f" got spacings from {spacing.min():g} to {spacing.max():g} ms"
            )
        if dt is not None and abs(dt - step) > 1e-6 * step:
            raise UsageError(f"data.dt = {dt:g} ms disagrees with the spacing of 't' ({step:g} ms)")
        dt, t0 = step, float(t[0])
    if dt is None:
        raise UsageError(
            "data.dt is required (in the config, as 'dt' in the .npz, or as a time column 't')"
        )
    if not (math.isfinite(dt) and dt > 0):
        raise UsageError(f"data.dt must be a positive finite number, got {dt!r}")
    return float(dt), t0


def _align_current(current, v, t, file_name: str):
    """The current samples that have a response: `v` of T+1 samples starts at t0 (the
    initial state included); with a time column, `v[k]` is at `t[k]` and the last current
    sample, which has no response, is dropped."""
    if v.shape[0] == current.shape[0] + 1:
        return current  # the initial state included
    if v.shape[0] == current.shape[0] and t is not None:
        if current.shape[0] < 2:
            raise UsageError(f"data.file {file_name}: need >= 2 rows")
        return current[:-1]  # v[k] at t[k]: the last current sample has no response
    if v.shape[0] == current.shape[0]:
        raise UsageError(
            f"data.file {file_name}: 'v' and 'current' both have {v.shape[0]} samples; "
            "say how they align: add a time column 't' (v[k] at t[k], current over "
            "[t[k], t[k] + dt)) or store v with one more sample (v at t0, ..., t0 + T·dt)"
        )
    raise UsageError(
        f"data.file {file_name}: 'v' must have {current.shape[0] + 1} "
        f"samples for {current.shape[0]} current samples, got "
        f"{v.shape[0]}"
    )


def _recording(v, t, dt: float, t0: float, file_name: str):
    """The voltage as a `scjax.fitting.Recording`: at `t`, else every dt from t0."""
    from scjax.fitting import Recording

    try:
        return Recording(t, v) if t is not None else Recording.sampled(v, dt, t_first=t0)
    except ValueError as err:
        raise UsageError(f"data.file {file_name}: {err}") from None


def target_for(loss: str, data: FitData, threshold: float):
    """The `target` of `scjax.fit`: the voltage `Recording` for trace_mse, otherwise spike
    times (the file's, or the upward crossings of `threshold` in its voltage)."""
    if loss == "trace_mse":
        if data.voltage is None:
            raise UsageError("fit.loss = 'trace_mse' needs a 'v' array/column in the data file")
        return data.voltage
    if data.spike_times is not None:
        return data.spike_times
    if data.voltage is not None:
        return data.voltage.spike_times(threshold)
    raise UsageError(f"fit.loss = {loss!r} needs 'spike_times' or 'v' in the data file")


# --- the model and the optimiser -----------------------------------------------------------


def build_model(name: str, params: dict):
    from scjax.models import MODELS

    cls = MODELS.get(name)
    if cls is None:
        raise UsageError(f"model: unknown model {name!r} (choose from {', '.join(sorted(MODELS))})")
    fields = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = [k for k in params if k not in fields]
    if unknown:
        raise UsageError(
            f"model_params: {name} has no parameter {unknown[0]!r} (its fields: "
            f"{', '.join(fields)})"
        )
    for k, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise UsageError(f"model_params.{k} must be a number, got {value!r}")
    try:
        return cls(**params)
    except (TypeError, ValueError) as err:
        raise UsageError(f"model_params: {err}") from None


def build_optimizer(options: dict):
    import optax

    options = dict(options)
    name = options.pop("name")
    factory = getattr(optax, name, None)
    if not callable(factory) or name.startswith("_"):
        raise UsageError(f"fit.optimizer.name: optax has no optimiser {name!r}")
    try:
        signature = inspect.signature(factory)
        signature.bind(**options)
    except TypeError as err:
        accepted = ", ".join(p for p in signature.parameters)
        raise UsageError(
            f"fit.optimizer: optax.{name} does not accept these options ({err}); "
            f"it takes {accepted}"
        ) from None
    except ValueError:  # no introspectable signature: let the call decide
        pass
    try:
        optimizer = factory(**options)
    except (TypeError, ValueError) as err:
        raise UsageError(f"fit.optimizer: optax.{name}({options}) failed: {err}") from None
    if not isinstance(optimizer, optax.GradientTransformation):
        raise UsageError(
            f"fit.optimizer.name: optax.{name} is not an optimiser (it returned "
            f"a {type(optimizer).__name__}, not a GradientTransformation)"
        )
    return optimizer


# --- the run -------------------------------------------------------------------------------


def run_config(config: dict, base: pathlib.Path, *, progress: bool = True) -> dict:
    """Run one fit from a parsed config, write its outputs; returns fitted_model.json's
    content. Paths in the config are relative to `base`."""
    import jax
    import numpy as np

    import scjax

    values = resolve_config(config)
    model = build_model(values["model"], values["model_params"])
    optimizer = build_optimizer(
        {k.split(".", 2)[2]: v for k, v in values.items() if k.startswith("fit.optimizer.")}
    )
    data_file = base / values["data.file"]
    specs = values[STIMULUS]
    fit_data = align(
        load_data(data_file),
        values["data.dt"],
        data_file.name,
        stimulus=specs is not None,
        duration=values["data.duration"],
    )
    loss = values["fit.loss"]
    target = target_for(loss, fit_data, values["data.spike_threshold"])
    # The run's precision is JAX's (float32 unless --x64): hand the data over in it, so the
    # library is not asked for a float64 it would truncate (with a warning per array).
    if specs is not None:
        current = build_stimulus(specs)
    else:
        current = np.asarray(fit_data.current, jax.dtypes.canonicalize_dtype(np.float64))
    restarts, steps = values["fit.restarts"], values["fit.steps"]
    seed = values["fit.seed"]
    if seed is None and restarts > 1:
        seed = 0
    surrogate = None if values["fit.surrogate"] == "none" else values["fit.surrogate"]

    bar = None
    callback: Callable[[int, Any], None] | None = None
    if progress:
        try:
            from tqdm import tqdm
        except ImportError:  # tqdm is optional; the fit itself does not need it
            tqdm = None
        if tqdm is not None:
            bar = shown = tqdm(total=steps, desc="fit", unit="step")

            def show_progress(i, losses):
                shown.update(1)
                shown.set_postfix(loss=f"{float(np.nanmin(losses)):.4g}")

            callback = show_progress

    try:
        result = scjax.fit(
            model,
            current=current,
            n_steps=fit_data.n_steps if specs is not None else None,
            dt=fit_data.dt,
            t0=fit_data.t0,
            target=target,
            params=tuple(values["fit.params"]),
            loss=loss,
            tau=values["fit.tau"],
            subthreshold=values["fit.subthreshold"],
            optimizer=optimizer,
            steps=steps,
            restarts=restarts,
            key=None if seed is None else jax.random.key(seed),
            init_spread=values["fit.init_spread"],
            surrogate=surrogate,
            callback=callback,
            events=values["fit.events"],
            max_spikes=values["fit.max_spikes"],
        )
    finally:
        if bar is not None:
            bar.close()

    fitted = result.model
    if not math.isfinite(result.loss) or not all(map(math.isfinite, result.params.values())):
        raise RunFailed(
            f"the fit diverged: best loss {result.loss}, parameters "
            f"{result.params}; nothing written (try a smaller "
            "fit.optimizer.learning_rate, a smaller data dt, or another guess)"
        )
    summary = {
        "model": type(fitted).__name__,
        "params": {n: float(getattr(fitted, n)) for n in fitted.param_names},
        "fitted": result.params,
        "loss": result.loss,
        "best_restart": result.best_restart,
        "wall_time_s": result.wall_time_s,
    }
    out_dir = base / values["output.dir"]
    history = np.asarray(result.loss_history)
    with staged_outputs() as staged:
        staged.write_json(out_dir / "fitted_model.json", summary)
        np.savetxt(
            staged.path(out_dir / "loss.csv"),
            history.T,
            delimiter=",",
            header=",".join(f"restart{r}" for r in range(history.shape[0])),
        )
        fig = _figure(
            scjax.simulate(
                fitted,
                current,
                fit_data.dt,
                t0=fit_data.t0,
                throw=False,
                n_steps=fit_data.n_steps if specs is not None else None,
            ),
            target,
            loss,
            history[result.best_restart],
        )
        if fig is not None:
            staged.savefig(fig, out_dir / "fit.png", dpi=120)
    return summary


def _figure(tr, target, loss, history):
    """The fit against the data and the loss curve, or None without matplotlib (optional)."""
    import numpy as np

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(11, 3.5), width_ratios=(3, 1))
    if loss == "trace_mse":
        ax.plot(target.t, target.v, color="k", lw=1, label="target")
    else:
        ax.eventplot([np.asarray(target)], lineoffsets=-85, linelengths=6, colors="k")
        ax.plot([], [], color="k", label="target spikes")
    ax.plot(np.asarray(tr.t), np.asarray(tr.v), color="C1", lw=1, label="fit")
    ax.set(xlabel="t (ms)", ylabel=f"{tr.state_names[0]}")
    ax.legend(loc="upper right")
    ax_loss.semilogy(np.maximum(np.asarray(history), 1e-300))
    ax_loss.set(xlabel="step", ylabel="loss")
    fig.tight_layout()
    plt.close(fig)
    return fig


def run(args) -> int:
    config = load_config(args.config)
    summary = run_config(config, args.config.resolve().parent, progress=not args.no_progress)
    print(json.dumps(summary["fitted"], indent=2))
    return 0
