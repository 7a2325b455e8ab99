"""The package as a user gets it: a wheel built from this tree, installed (not editable) into a
fresh virtual environment, run from a folder outside the source tree.

Nothing is downloaded: the wheel is built without build isolation and installed with
`--no-deps --no-index`; its dependencies come from the running interpreter's site-packages,
appended to the temporary venv's `sys.path` by a `.pth` line. Python does not execute `.pth`
files inside a directory added that way, so the editable install of scjax living there stays
inactive; every test checks that `scjax` is imported from the temporary venv.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile

import pytest

from scjax.backends import native
from scjax.cli import _demo

pytestmark = pytest.mark.slow

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "scjax"
JULIA_DATA = PACKAGE / "_data" / "julia"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
#: long enough for a loaded 2-core machine; the whole module takes about a minute
TIMEOUT_S = 600


def _run(args, *, cwd, env=None):
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT_S,
    )
    assert done.returncode == 0, (
        args,
        done.returncode,
        done.stdout[-4000:],
        done.stderr[-4000:],
    )
    return done


def _pip(*args, cwd, env=None):
    return _run([sys.executable, "-m", "pip", *args], cwd=cwd, env=env)


def _user_env() -> dict[str, str]:
    """This process's environment without anything that would point Python or scjax back at
    the source tree (XLA_FLAGS from conftest stay: the demo's parity is bit-level)."""
    drop = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", native.DIR_VARIABLE}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _dependency_paths() -> list[str]:
    """site-packages of the running interpreter (its purelib and platlib, from sys.prefix)."""
    prefix = {"base": sys.prefix, "platbase": sys.prefix}
    paths = [sysconfig.get_path(key, vars=prefix) for key in ("purelib", "platlib")]
    return list(dict.fromkeys(paths))


class Venv:
    """A fresh venv with scjax installed by `pip install --no-deps --no-index *install`, then
    the running interpreter's dependencies appended to its path (after the install, so that
    pip never sees the scjax installed there and never tries to uninstall it)."""

    def __init__(self, path: pathlib.Path, *install, pythonpath: str | None = None):
        _run([sys.executable, "-m", "venv", "--without-pip", path], cwd=path.parent)
        self.path = path
        self.python = path / "bin" / "python"
        self.scjax = path / "bin" / "scjax"
        self.site = pathlib.Path(
            _run(
                [self.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                cwd=path,
                env=_user_env(),
            ).stdout.strip()
        )
        env = _user_env() if pythonpath is None else {**_user_env(), "PYTHONPATH": pythonpath}
        _pip(
            "--python",
            self.python,
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            *install,
            cwd=path.parent,
            env=env,
        )
        (self.site / "_scjax_test_dependencies.pth").write_text(
            "\n".join(_dependency_paths()) + "\n"
        )

    def probe(self, cwd) -> dict:
        """Where the installed scjax is, and what it finds as package data."""
        code = (
            "import importlib.resources, json, scjax\n"
            "from scjax.backends import native\n"
            "julia = importlib.resources.files('scjax').joinpath('_data', 'julia')\n"
            "print(json.dumps({'file': scjax.__file__, 'version': scjax.__version__,\n"
            "    'library_dir': str(native.library_dir()), 'available': native.available(),\n"
            "    'julia': {p.name: p.read_bytes().hex() for p in julia.iterdir()\n"
            "              if p.is_file()} if julia.is_dir() else None}))\n"
        )
        return json.loads(_run([self.python, "-c", code], cwd=cwd, env=_user_env()).stdout)


def _source_libraries() -> list[str]:
    """Backends whose library is in the source tree's scjax/_native/ (after the build hook)."""
    return [b for b, name in native.LIBRARIES.items() if (PACKAGE / "_native" / name).is_file()]


def _source_package_files(pattern: str) -> set[str]:
    return {
        p.relative_to(ROOT).as_posix()
        for p in PACKAGE.rglob(pattern)
        if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("wheel")
    _pip(
        "wheel",
        ROOT,
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--quiet",
        "-w",
        out,
        cwd=out,
    )
    (found,) = out.glob("scjax-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Venv, pathlib.Path]:
    """(the venv with the wheel installed, a working folder outside the source tree)"""
    base = tmp_path_factory.mktemp("installed")
    venv = Venv(base / "venv", wheel)
    work = base / "work"
    work.mkdir()
    return venv, work


def _check_installed(venv: Venv, work: pathlib.Path) -> dict:
    probe = venv.probe(work)
    assert pathlib.Path(probe["file"]).is_relative_to(venv.site), probe["file"]
    assert pathlib.Path(probe["library_dir"]) == venv.site / "scjax" / "_native"
    for backend in native.BACKENDS:
        if backend in _source_libraries():
            assert probe["available"][backend] is True, (backend, probe["available"])
        else:
            reason = probe["available"][backend]
            assert reason.startswith("missing-shared-library"), (backend, reason)
    return probe


def test_wheel_contents(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        dist_info = f"scjax-{VERSION}.dist-info"
        metadata = zf.read(f"{dist_info}/METADATA").decode()
        tag = zf.read(f"{dist_info}/WHEEL").decode()
        license_text = zf.read(f"{dist_info}/licenses/LICENSE").decode()
    # every module of the source tree, and no stale one from an earlier build/lib
    assert {n for n in names if n.endswith(".py")} == _source_package_files("*.py")
    assert {"scjax/py.typed", "scjax/_native/README"} <= names
    libraries = {f"scjax/_native/{native.LIBRARIES[b]}" for b in _source_libraries()}
    assert {n for n in names if n.endswith(".so")} == libraries
    assert _source_package_files("_data/**/*") <= names
    assert license_text == (ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert "License-Expression: Apache-2.0" in metadata
    assert "Requires-Python: >=3.11" in metadata
    for dependency in ("matplotlib", "tqdm", "scipy", "jax", "equinox", "diffrax"):
        assert f"Requires-Dist: {dependency}>=" in metadata, dependency
    if libraries:  # machine code for this platform, loaded by ctypes: no CPython ABI
        assert "Root-Is-Purelib: false" in tag
        assert wheel.name.startswith(f"scjax-{VERSION}-py3-none-linux_"), wheel.name
    else:
        assert "Root-Is-Purelib: true" in tag
        assert wheel.name == f"scjax-{VERSION}-py3-none-any.whl"


def test_installed_package_finds_its_data(installed):
    venv, work = installed
    probe = _check_installed(venv, work)
    assert probe["version"] == VERSION
    if not JULIA_DATA.is_dir():
        pytest.skip(
            f"{JULIA_DATA.relative_to(ROOT)} is absent in the source tree: the Julia "
            "scripts are not package data yet"
        )
    expected = {p.name: p.read_bytes().hex() for p in JULIA_DATA.iterdir() if p.is_file()}
    assert any(name.endswith(".jl") for name in expected), expected.keys()
    assert probe["julia"] == expected


def test_console_script_version(installed):
    venv, work = installed
    done = _run([venv.scjax, "--version"], cwd=work, env=_user_env())
    assert done.stdout.strip() == f"scjax {VERSION}"


def test_console_script_demo(installed):
    venv, work = installed
    out = work / "demo"
    done = _run(
        [venv.scjax, "demo", "--quick", "--parity-random", "0", "--out", out],
        cwd=work,
        env=_user_env(),
    )
    assert "Traceback" not in done.stderr
    assert (out / "demo_traces.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "demo_summary.json").read_text())
    assert list(summary) == [case[0] for case in _demo.CASES]
    for name, rows in summary.items():
        assert len(rows) == 1, (name, rows)  # --quick: the model's default integrator
        (row,) = rows.values()
        assert row["spikes"] > 0 and not row["diverged"], (name, rows)  # suprathreshold drives
    report = json.loads((out / "parity.json").read_text())
    from scjax import parity

    euler_cases = sum("euler" in case.integrators for case in parity.CASES.values())
    # Every native library present, plus SciPy (always available; Julia is not installed).
    assert report["n_checked"] == euler_cases * (len(_source_libraries()) + 1)
    assert report["passed"] is True


def _build_tools(folder: pathlib.Path) -> str:
    """A folder holding only setuptools (links into the running interpreter's site-packages):
    what a build without isolation needs, without the scjax installed there."""
    import setuptools

    site = pathlib.Path(setuptools.__file__).parents[1]
    folder.mkdir()
    for pattern in ("setuptools", "setuptools-*.dist-info", "_distutils_hack", "pkg_resources"):
        for found in site.glob(pattern):
            (folder / found.name).symlink_to(found)
    return str(folder)


def test_pip_install_source_tree(tmp_path):
    """`pip install .` (not editable) gives a working console script and package data."""
    tools = _build_tools(tmp_path / "build_tools")
    venv = Venv(tmp_path / "venv", "--no-build-isolation", ROOT, pythonpath=tools)
    work = tmp_path / "work"
    work.mkdir()
    _check_installed(venv, work)
    done = _run([venv.scjax, "--version"], cwd=work, env=_user_env())
    assert done.stdout.strip() == f"scjax {VERSION}"


def test_build_without_toolchains_succeeds(tmp_path):
    """No cargo, no go on PATH: the build hook says why and the wheel still builds."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "mkdir", "cp", "mv", "rm", "grep", "mktemp"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    env = {**_user_env(), "PATH": str(bin_dir)}
    done = _pip(
        "wheel",
        ROOT,
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-v",
        "-w",
        tmp_path,
        cwd=tmp_path,
        env=env,
    )
    log = done.stdout + done.stderr
    assert "native: rust skipped: cargo not found on PATH" in log, log[-4000:]
    assert "native: go skipped: go not found on PATH" in log, log[-4000:]
    assert len(list(tmp_path.glob("scjax-*.whl"))) == 1
