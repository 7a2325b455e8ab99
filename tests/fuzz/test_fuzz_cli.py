"""Property-based test of `scjax.cli.main`: argv drawn from a grammar of the real commands
and flags with garbage values. The outcome is exit 0, 1 (a negative verdict, never an
internal error) or 2 (a user error: exactly one stderr line `scjax <command>: error: ...`),
never a traceback. Valid draws are kept cheap (a few steps, one system, `--no-simulate`)."""

import contextlib
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scjax.cli import main

from ._outcome import TALLY, wall_clock
from ._strategies import mostly

GARBAGE = st.sampled_from(["", "x", "-1", "0", "nan", "1e999", "1:2", "--", "é", "3.5", "-"])


def _flag(name, values):
    return st.tuples(st.just(name), values).map(list)


@st.composite
def argvs(draw, folder):
    out = folder / f"out{draw(st.integers(0, 3))}.json"
    path = mostly(st.just(str(out)), st.sampled_from(["/proc/nosuch/x.json", str(folder), ""]))
    command = draw(st.sampled_from(["reference", "analyze", "parity", "fit", "demo", "nosuch"]))
    if command == "reference":
        argv = ["reference", draw(mostly(st.sampled_from(["3", "5"]), GARBAGE, odds=3))]
        flags = [
            _flag("--repeats", mostly(st.just("1"), GARBAGE, odds=3)),
            _flag("--systems", mostly(st.sampled_from(["lif", "lif,izhikevich"]), GARBAGE, odds=3)),
            _flag("--out", path),
        ]
        argv += ["--repeats", "1", "--systems", "lif"]  # the defaults would run for minutes
    elif command == "analyze":
        argv = ["analyze", draw(mostly(st.sampled_from(["lif", "fhn", "Izhikevich"]), GARBAGE))]
        argv += ["--no-simulate"]
        flags = [
            _flag("--preset", st.sampled_from(["RS", "X", ""])),
            _flag("--current", mostly(st.sampled_from(["5", "20"]), GARBAGE, odds=3)),
            _flag("--currents", st.sampled_from(["0:10:3", "1:2", "a:b:c", "1:2:0", "5:1:3"])),
            _flag("--json", path),
        ]
    elif command == "parity":
        argv = ["parity", "--json", draw(st.sampled_from(["", str(out)]))]
        flags = [
            _flag("--models", st.sampled_from(["izhikevich", "nosuch", "adex"])),
            _flag("--backends", st.sampled_from(["rust", "scipy", "nosuch", "julia"])),
            _flag("--integrators", st.sampled_from(["euler", "nosuch", "rk4"])),
            _flag("--n-random", mostly(st.just("0"), GARBAGE, odds=3)),
            _flag("--steps", mostly(st.sampled_from(["3", "5"]), GARBAGE, odds=3)),
        ]
        argv += ["--models", "izhikevich", "--n-random", "0", "--steps", "5"]
    elif command == "fit":
        config = folder / draw(st.sampled_from(["c.json", "c.toml", "c.txt", "missing.json"]))
        text = draw(
            st.sampled_from(["[]", "", "{", "{}", '{"model": "nosuch"}', "model = 3", "\x00"])
        )
        if config.name != "missing.json":
            config.write_text(text)
        argv, flags = ["fit", str(config)], [st.just(["--no-progress"]), st.just(["--x64"])]
    elif command == "demo":  # always broken: a complete demo runs for minutes
        argv = ["demo", "--out", str(folder)]
        flags = []
        argv += draw(st.sampled_from([["--parity-random", "x"], ["--bogus"], ["--quick", "1"]]))
    else:
        argv, flags = [draw(GARBAGE)], []
    for flag in draw(st.lists(st.sampled_from(flags), max_size=3)) if flags else []:
        argv += draw(flag)
    if draw(st.integers(0, 9)) == 9:
        argv.append(draw(st.sampled_from(["--bogus", "--debug", "extra"])))
    return argv


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@given(data=st.data())
def test_cli(folder, data):
    argv = data.draw(argvs(folder))
    stdout, stderr = io.StringIO(), io.StringIO()
    with wall_clock(), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(list(argv))
    err = stderr.getvalue()
    TALLY["cli.main"][f"exit {code}"] += 1
    shown = f"argv: {argv}\nexit {code}\nstderr: {err!r}"
    assert code in (0, 1, 2), shown
    if "--debug" not in argv:
        assert "Traceback" not in err, shown
    assert "internal error" not in err, shown
    if code == 2:
        lines = err.splitlines()
        commands = ("reference", "analyze", "parity", "fit", "demo")
        prefix = f"scjax {argv[0]}: error:" if argv[0] in commands else "scjax: error:"
        assert len(lines) == 1 and lines[0].startswith(prefix), shown
    for path in folder.glob("out*.json"):  # outputs are complete or absent (atomic writes)
        json.loads(path.read_text())
