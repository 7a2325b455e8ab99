"""The documentation: the site builds with `mkdocs build --strict` (so a broken reference, a
missing figure or an unknown generator fails CI), the getting-started snippets run as
written, and every gallery script runs at its CI size and draws what its page claims.

The gallery checks compare against closed forms, not against stored outputs: the LIF F–I curve
against its analytic rate, the FitzHugh–Nagumo Hopf point against the zero of the Jacobian's
trace, the fitted Hodgkin–Huxley conductances against the values that made the data.
"""

import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
FIGURES = ROOT / "docs" / "figures"
#: The largest committed figure (the repository keeps only small PNGs).
MAX_FIGURE_BYTES = 100_000

#: The documentation tools (the `dev` extra): mkdocs, mkdocs-material, mkdocstrings[python].
_MISSING = [
    name
    for name in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers")
    if importlib.util.find_spec(name) is None
]
needs_mkdocs = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"documentation tools not installed ({', '.join(_MISSING)}): "
    "pip install -e '.[dev]' (mkdocs, mkdocs-material, mkdocstrings[python])",
)


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["NO_MKDOCS_2_WARNING"] = "1"
    env["SCJAX_EXAMPLES_SMALL"] = "1"
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _run(args, timeout: float, cwd=ROOT) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@needs_mkdocs
def test_site_builds_strictly(tmp_path):
    site = tmp_path / "site"
    _run(
        ["-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
        timeout=300,
    )
    pages = list(site.rglob("*.html"))
    assert len(pages) > 30
    for page in pages:  # every generator directive was replaced
        assert "<!-- scjax:" not in page.read_text(), page
    adex = (site / "models" / "adex" / "index.html").read_text()
    # the units table rendered from AdEx.param_domains (C in pF, g_L in nS, b in pA)
    for unit in ("pF", "nS", "pA"):
        assert f"<td>{unit}</td>" in adex
    fit_guide = (site / "guides" / "fitting" / "index.html").read_text()
    from scjax.cli._fit import CONFIG

    for key in CONFIG:  # every config key has a row
        assert f"<code>{key.name}</code>" in fit_guide, key.path


def test_getting_started_snippets_run(tmp_path):
    page = (ROOT / "docs" / "getting-started.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    assert len(blocks) >= 4
    script = tmp_path / "getting_started.py"
    script.write_text("\n".join(blocks))
    done = _run([str(script)], timeout=300)
    assert "spikes; first at" in done.stdout


def _example(name: str, tmp_path) -> dict:
    _run([str(EXAMPLES / f"{name}.py"), "--small", "--out", str(tmp_path)], timeout=300)
    return json.loads((tmp_path / f"{name}.json").read_text())


def test_example_fi_curve_matches_the_lif_closed_form(tmp_path):
    out = _example("fi_curve", tmp_path)
    assert (tmp_path / "fi_curve.png").stat().st_size > 0
    rates, theory = np.array(out["lif_rates_hz"]), np.array(out["lif_theory_hz"])
    # counted over the second half of a 500 ms run: one spike is 4 Hz; Euler at dt 0.01 ms
    # adds under 2 % of drift
    np.testing.assert_allclose(rates, theory, rtol=0.02, atol=4.0 + 1e-9)
    assert np.all(np.diff(out["izhikevich_rs_rates_hz"]) >= 0)


def test_example_phase_plane_finds_the_hopf_point(tmp_path):
    out = _example("phase_plane", tmp_path)
    assert (tmp_path / "phase_plane_fhn.png").stat().st_size > 0
    assert min(abs(h - out["hopf_theory_lower"]) for h in out["hopf_currents"]) < 1e-8


def test_example_fit_recovers_the_conductances(tmp_path):
    out = _example("fit_convergence", tmp_path)
    assert (tmp_path / "fit_convergence.png").stat().st_size > 0
    for name, value in out["truth"].items():
        assert out["params"][name] == pytest.approx(value, rel=1e-6), name


def test_example_parity_errors_agree(tmp_path):
    out = _example("parity_errors", tmp_path)
    assert (tmp_path / "parity_errors.png").stat().st_size > 0
    assert out["backends"]["scipy"] is True  # SciPy is a dependency: always checked
    assert out["n_checked"] > 0 and out["n_failed"] == 0, out
    if out["native_max_rel"] is not None:
        from scjax.parity import NATIVE_RTOL

        assert out["native_max_rel"] <= NATIVE_RTOL


def test_example_batch_rates_grow_with_drive(tmp_path):
    out = _example("batch_rates", tmp_path)
    assert (tmp_path / "batch_rates.png").stat().st_size > 0
    # rates against the mean drive: Spearman rank correlation of a type-I neuron's F–I curve
    assert out["rate_drive_rank_correlation"] > 0.9
    assert out["silent_fraction"] < 0.5


def test_example_firing_patterns_and_traces_spike(tmp_path):
    out = _example("firing_patterns", tmp_path)
    for name in ("izhikevich_patterns", "adex_patterns"):
        assert (tmp_path / f"{name}.png").stat().st_size > 0
    assert all(n > 0 for n in out["izhikevich_spikes"].values())
    assert all(n > 0 for n in out["adex_spikes"].values())
    # fast spiking fires faster than regular spiking under the same current (Izhikevich 2003)
    assert out["izhikevich_spikes"]["FS"] > out["izhikevich_spikes"]["RS"]
    out = _example("model_traces", tmp_path)
    assert all(n > 0 for n in out["spikes"].values()), out


def test_committed_figures_are_small_and_all_drawn_by_an_example():
    figures = sorted(FIGURES.glob("*.png"))
    assert figures, "docs/figures is empty: run `make docs`"
    for figure in figures:
        assert figure.stat().st_size < MAX_FIGURE_BYTES, figure.name
    sources = "".join(p.read_text() for p in EXAMPLES.glob("*.py"))
    for figure in figures:
        stem = figure.stem
        drawn = f'"{stem}"' in sources or (
            stem.startswith("trace_") and 'f"trace_{name}"' in sources
        )
        assert drawn, f"{figure.name} is not written by any script in examples/"
