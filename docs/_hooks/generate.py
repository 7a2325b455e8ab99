"""mkdocs hook: replace `<!-- scjax: NAME ARG... -->` in a page by text generated from the code
or from the measured results in experiments/results/*.json, so no page retypes a parameter
table, a config key or a measured number.

Each generator is a function `NAME(*args) -> str` (Markdown) registered in `GENERATORS`. An
unknown name, a missing argument or a missing results file is an error: `mkdocs build
--strict` then fails instead of publishing a page with a hole.
"""

import dataclasses
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
RESULTS = ROOT / "experiments" / "results"
DIRECTIVE = re.compile(r"<!--\s*scjax:\s*(\w+)((?:\s+[^\s>]+)*)\s*-->")


def _model_class(name: str):
    from scjax.models import MODELS

    return MODELS[name]


def _results(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text())


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    # a "|" inside a cell (max|ref|) would split it: escape it for the tables extension
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _g(x, digits: int = 3) -> str:
    return f"{x:.{digits}g}"


# --- models ---------------------------------------------------------------------------------


def domain_table(cls_name: str) -> str:
    """The parameter table of a model from its `param_domains` (scjax.models.domain_table)."""
    from scjax.models import domain_table as render

    return render(_model_class(cls_name))


def model_facts(cls_name: str) -> str:
    """State, spike rule, default and accepted integrators, backends of one model class."""
    from scjax import models
    from scjax.models import CONDUCTANCE_INTEGRATORS, INTEGRATORS

    cls = _model_class(cls_name)
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    if issubclass(cls, models.AbstractPlainSystem):
        rule = "none (a smooth system: the spike trace is all False)"
    elif issubclass(cls, models.AbstractResettingModel):
        rule = (
            f"threshold and reset: `{cls.spike_state} ≥ spike_threshold()` after a step, "
            "then `reset(y)`"
        )
    else:
        rule = f"upward crossing of `spike_threshold()` by `{cls.spike_state}`"
    accepted = [n for n in INTEGRATORS if n not in CONDUCTANCE_INTEGRATORS]
    if issubclass(cls, models.AbstractConductanceModel):
        accepted += list(CONDUCTANCE_INTEGRATORS)
    if cls.__name__ == "FixedPointLIF":
        accepted = ["euler"]
    default = defaults.get("integrator", dataclasses.MISSING)
    if default is dataclasses.MISSING:  # the array-valued systems build their fields in __init__
        default = models._system_base.PLAIN_DEFAULT_INTEGRATOR
    rows = [
        ["state", ", ".join(f"`{s}`" for s in cls().state_names)],
        ["spike rule", rule],
        ["default integrator", f"`{default}`"],
        ["accepted integrators", ", ".join(f"`{n}`" for n in accepted)],
        ["native libraries (C ABI name)", f"`{cls.native_name}`" if cls.native_name else "—"],
        ["reference suite name", f"`{cls.system_name}`" if cls.system_name else "—"],
    ]
    return _table(["", cls.__name__], rows)


def izhikevich_presets() -> str:
    from scjax.models import IZHIKEVICH_PRESETS

    rows = [[f"`{k}`", *v] for k, v in IZHIKEVICH_PRESETS.items()]
    return _table(["preset", "a (1/ms)", "b (1/ms)", "c (mV)", "d (mV/ms)"], rows)


def adex_presets() -> str:
    from scjax.models import ADEX_PRESETS

    head = [
        "preset",
        "C (pF)",
        "g_L (nS)",
        "E_L (mV)",
        "V_T (mV)",
        "Δ_T (mV)",
        "τ_w (ms)",
        "a (nS)",
        "b (pA)",
        "V_r (mV)",
        "I (pA)",
    ]
    return _table(head, [[f"`{k}`", *v, current] for k, (v, current) in ADEX_PRESETS.items()])


def reference_systems() -> str:
    """The reference suite: system, class, drive, whether it spikes, span."""
    from scjax.adaptive import SYSTEMS

    rows = [
        [
            f"`{name}`",
            f"`{s.model_class.__name__}`",
            s.current,
            "yes" if s.spiking else "no",
            s.span,
        ]
        for name, s in SYSTEMS.items()
    ]
    return _table(["system", "class", "input current", "fires", "span (ms)"], rows)


# --- solvers --------------------------------------------------------------------------------


def solver_table() -> str:
    """Integrator name → solver class, adaptivity, Rosenbrock γ and upstroke limit."""
    import diffrax

    from scjax.solvers import SOLVERS_BY_NAME, AbstractRosenbrockSolver

    rows = []
    for name, cls in SOLVERS_BY_NAME.items():
        adaptive = issubclass(cls, diffrax.AbstractAdaptiveSolver)
        rosenbrock = issubclass(cls, AbstractRosenbrockSolver)
        extra = ' (`membrane="euler"`)' if name == "rush_larsen" else ""
        rows.append(
            [
                f'`"{name}"`',
                f"[`{cls.__name__}`](../api/solvers.md#scjax.solvers.{cls.__name__})" + extra,
                "yes" if adaptive else "no (fixed step)",
                _g(cls.gamma, 4) if rosenbrock else "—",
                _g(cls.upstroke_limit) if rosenbrock else "—",
            ]
        )
    return _table(["name", "solver", "error estimate (adaptive)", "γ", "upstroke limit"], rows)


# --- measured results -----------------------------------------------------------------------


def fixed_step_accuracy() -> str:
    """cross_validation.json: every fixed-step path at dt = 0.1 ms over 1 s vs the reference."""
    data = _results("cross_validation")["fixed_step"]
    names = ["euler", "half_euler", "rk4", "rosenbrock", "rosenbrock2"]
    rows = []
    for model, per in data.items():
        cells = []
        for name in names:
            r = per.get(name)
            if r is None:
                cells.append("")
            elif "refused" in r:
                cells.append("refused")
            elif r.get("diverged"):
                cells.append("diverged")
            else:
                mark = "✓" if r["passes"] else "✗"
                cells.append(f"{r['n_spikes']}/{r['n_spikes_ref']} {mark}")
        rows.append([f"`{model}`", f"`{per['default']}`", *cells])
    return _table(["model", "default", *names], rows)


def exponential_euler_accuracy() -> str:
    """accuracy_exponential_euler.json: stable dts, order and spike-time drift per integrator."""
    data = _results("accuracy_exponential_euler")["results"]
    rows = []
    for model, r in data.items():
        for name, s in r["summary"].items():
            rows.append(
                [
                    f"`{model}`",
                    r["current"],
                    f"`{name}`",
                    ", ".join(_g(dt) for dt in s["stable_dts"]),
                    _g(s["loglog_slope"]),
                    _g(s["error_over_dt_median"]),
                ]
            )
    return _table(
        [
            "model",
            "current",
            "integrator",
            "finite at dt (ms)",
            "order (slope)",
            "spike-time error / dt",
        ],
        rows,
    )


def exponential_euler_runs(model: str) -> str:
    r = _results("accuracy_exponential_euler")["results"][model]
    rows = [
        [
            f"`{run['integrator']}`",
            run["dt"],
            "diverged" if run["diverged"] else f"{run['n_spikes']}",
            "" if run["diverged"] else _g(run["max_spike_time_error_ms"]),
        ]
        for run in r["runs"]
    ]
    head = [
        "integrator",
        "dt (ms)",
        f"spikes (reference {r['reference']['n_spikes']})",
        "max spike-time error (ms)",
    ]
    return _table(head, rows)


def golden_deviation() -> str:
    """cross_validation.json: the in-process Tsit5 reference vs the SciPy golden traces."""
    data = _results("cross_validation")["golden"]
    rows = [
        [
            f"`{name}`",
            r["span_ms"],
            f"{r['max_rel_dev']:.2e}",
            f"{r['n_spikes']}/{r['n_spikes_ref']}",
            f"{r['max_spike_time_diff_ms']:.2e}" if "max_spike_time_diff_ms" in r else "—",
        ]
        for name, r in data.items()
    ]
    return _table(
        [
            "system",
            "span (ms)",
            "max relative deviation",
            "spikes / golden",
            "max spike-time difference (ms)",
        ],
        rows,
    )


def fixed_point_lif() -> str:
    data = _results("cross_validation")["fixed_point"]
    rows = [
        [current, variant, _g(r["rate_hz"], 5), _g(r["rate_ref_hz"], 5), f"{r['rel_dev']:.2%}"]
        for current, per in data.items()
        for variant, r in per.items()
    ]
    return _table(
        ["current (nA)", "variant", "rate (Hz)", "continuous LIF (Hz)", "deviation"], rows
    )


def parity_tolerances() -> str:
    from scjax import parity

    rows = [
        [
            "native (Rust, Go, Mojo)",
            "the same fixed-step recurrence",
            f"every component: max abs error ≤ max({parity.NATIVE_RTOL:g}·max|ref|, atol), "
            f"atol = {parity.HH_VOLTAGE_ATOL:g} mV on the HH voltage, 0 elsewhere; identical "
            "spike trains",
        ],
        [
            "SciPy (DOP853 / Radau)",
            "the exact solution (adaptive, events)",
            f"spike count within ±{parity.SPIKE_COUNT_ATOL} and within "
            f"{parity.SPIKE_RATE_RTOL:.0%} of the reference's; state errors reported",
        ],
        [
            "Julia (DifferentialEquations.jl)",
            "the exact solution (adaptive, callbacks)",
            "as SciPy",
        ],
    ]
    return _table(["backend", "compares against", "passes when"], rows) + (
        f"\n\nShared trace: {parity.TRACE_STEPS} steps, seed {parity.TRACE_SEED}."
    )


def bench_population() -> str:
    data = _results("bench_population")
    rows = []
    for workload, r in data["results"].items():
        for contender, c in r["contenders"].items():
            if c.get("status") != "ok":
                continue
            # An exponential-Euler contender is judged against the same scheme (BrainPy's
            # exp_auto), not against C's RK4.
            agreement = c.get("agreement_vs_brainpy_exp_auto") or c.get("agreement", {})
            rows.append(
                [
                    f"`{workload}`",
                    contender,
                    f"{c['neuron_steps_per_s_median']:.3g}",
                    _g(c["setup_s_median"]),
                    "✓" if agreement.get("pass") else agreement.get("criterion", ""),
                ]
            )
    return (
        _table(["workload", "contender", "neuron-steps/s", "setup (s)", "identical counts"], rows)
        + f"\n\nStatus: {data.get('status', 'not recorded')}"
    )


def bench_simulate(*names: str) -> str:
    """experiments/results/bench_simulate_*.json: batched HH RK4 throughput per device."""
    rows = []
    for name in names:
        data = _results(name)
        device = ", ".join(data["machine"]["devices"])
        for r in data["results"]:
            rows.append(
                [
                    f"`{name}.json`",
                    device,
                    r["dtype"],
                    f"{r['neurons']:,}",
                    r["steps"],
                    _g(r["compile_s"]),
                    _g(r["run_s_median"]),
                    f"{r['neuron_steps_per_s']:.3g}",
                ]
            )
    return _table(
        [
            "results file",
            "device",
            "dtype",
            "neurons",
            "steps",
            "compile (s)",
            "run (s)",
            "neuron-steps/s",
        ],
        rows,
    ) + (f"\n\nWorkload: {_results(names[0])['benchmark']}.")


# --- fitting --------------------------------------------------------------------------------


def fit_config() -> str:
    """Every key of the `scjax fit` config, from the table its parser and `--help` use."""
    from scjax.cli._fit import CONFIG, OPEN_TABLES, REQUIRED, UNSET

    rows = []
    for key in CONFIG:
        default = (
            "*unset*"
            if key.default is UNSET
            else "**required**"
            if key.default is REQUIRED
            else f"`{json.dumps(key.default)}`"
        )
        text = key.help + (
            "; one of " + ", ".join(f"`{c}`" for c in key.choices) if key.choices else ""
        )
        rows.append(
            [
                f"`[{key.section}]`" if key.section else "top level",
                f"`{key.name}`",
                f"`{key.type}`",
                default,
                text,
            ]
        )
    note = (
        "\n\nTables whose other keys are passed on rather than rejected: "
        + ", ".join(f"`[{t}]`" for t in OPEN_TABLES)
        + "."
    )
    return _table(["table", "key", "type", "default", "meaning"], rows) + note


def fit_config_example() -> str:
    """The example config of the `scjax fit` module docstring (what `--help` prints)."""
    from scjax.cli import _fit

    doc = _fit.__doc__
    start = doc.index("Example (TOML)::") + len("Example (TOML)::")
    end = doc.index("Data files:")
    body = "\n".join(line[4:] for line in doc[start:end].strip("\n").splitlines())
    return "```toml\n" + body.rstrip() + "\n```"


GENERATORS = {
    f.__name__: f
    for f in (
        domain_table,
        model_facts,
        izhikevich_presets,
        adex_presets,
        reference_systems,
        solver_table,
        fixed_step_accuracy,
        exponential_euler_accuracy,
        exponential_euler_runs,
        golden_deviation,
        fixed_point_lif,
        parity_tolerances,
        bench_population,
        bench_simulate,
        fit_config,
        fit_config_example,
    )
}


def render(markdown: str) -> str:
    def replace(match: re.Match) -> str:
        name, args = match.group(1), match.group(2).split()
        if name not in GENERATORS:
            raise ValueError(f"unknown generator {name!r}; known: {sorted(GENERATORS)}")
        return GENERATORS[name](*args)

    return DIRECTIVE.sub(replace, markdown)


#: Guides written separately: listed under "Guides" when their page exists, so the nav never
#: names a missing file (mkdocs strict) and never omits a present one.
OPTIONAL_GUIDES = (("Integrator accuracy", "accuracy.md"), ("Distributed runs", "distributed.md"))


def _nav_files(nav) -> set[str]:
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, dict):
        return set().union(*(_nav_files(v) for v in nav.values()))
    if isinstance(nav, list):
        return set().union(set(), *(_nav_files(v) for v in nav))
    return set()


def on_config(config):  # the mkdocs hook
    nav = config["nav"]
    listed = _nav_files(nav)
    guides = next(item["Guides"] for item in nav if isinstance(item, dict) and "Guides" in item)
    for title, name in OPTIONAL_GUIDES:
        if name not in listed and (pathlib.Path(config["docs_dir"]) / name).exists():
            guides.insert(0, {title: name})
    return config


def on_page_markdown(markdown, page, config, files):  # the mkdocs hook
    del page, config, files
    return render(markdown)
