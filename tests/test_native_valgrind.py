"""The C ABI's bad-input cases under valgrind (memcheck), for every built library.

`native/abi_bad_input.c` dlopens one library and calls every ABI function with null pointers,
unknown model and integrator names, wrong parameter counts and buffer sizes, NaN dt, an empty
current, non-finite values, then one valid run per model and integrator, all into buffers
malloc'ed at exactly the size the call is told. It checks each status code; memcheck checks
that no call reads or writes outside those buffers or branches on uninitialised memory.

Go's runtime is suppressed for uninitialised-value reports whose innermost frame is
`runtime.*` only (`native/valgrind-go.supp` says why); invalid reads and writes are never
suppressed. A deliberately broken library is the control: memcheck must catch it.
"""

import pathlib
import re
import shutil
import subprocess

import pytest

from scjax.backends import native

ROOT = pathlib.Path(__file__).resolve().parents[1]
DRIVER = ROOT / "native" / "abi_bad_input.c"
GO_SUPPRESSIONS = ROOT / "native" / "valgrind-go.supp"
#: the driver's case count: 26 simulate cases, 20 of the small functions, 14 valid runs
N_CASES = 60


@pytest.fixture(scope="module")
def valgrind() -> str:
    path = shutil.which("valgrind")
    if path is None:
        pytest.skip("valgrind not installed")
    return path


@pytest.fixture(scope="module")
def driver(tmp_path_factory) -> pathlib.Path:
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("gcc not installed (needed to compile native/abi_bad_input.c)")
    exe = tmp_path_factory.mktemp("driver") / "abi_bad_input"
    subprocess.run(
        [
            gcc,
            "-g",
            "-O1",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-o",
            str(exe),
            str(DRIVER),
            "-ldl",
            "-lm",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return exe


def _memcheck(
    valgrind,
    driver,
    library: pathlib.Path,
    log: pathlib.Path,
    suppressions: pathlib.Path | None = None,
) -> tuple[subprocess.CompletedProcess, str, int]:
    cmd = [
        valgrind,
        "--tool=memcheck",
        "--error-exitcode=99",
        "--leak-check=no",
        f"--log-file={log}",
    ]
    if suppressions is not None:
        cmd.append(f"--suppressions={suppressions}")
    out = subprocess.run(
        [*cmd, str(driver), str(library)], capture_output=True, text=True, timeout=300
    )
    text = log.read_text()
    errors = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    assert errors is not None, text[-3000:]
    return out, text, int(errors.group(1))


@pytest.mark.parametrize("backend", native.BACKENDS)
def test_bad_input_is_clean_under_memcheck(valgrind, driver, tmp_path, backend):
    status = native.status(backend)
    if status is not True:
        pytest.skip(f"{backend}: {status}")
    library = native.library_dir() / native.LIBRARIES[backend]
    out, log, errors = _memcheck(
        valgrind,
        driver,
        library,
        tmp_path / "memcheck.log",
        GO_SUPPRESSIONS if backend == "go" else None,
    )
    assert "Unrecognised instruction" not in log, (
        f"valgrind cannot run {library}: rebuild it for a baseline CPU (make native)"
    )
    assert errors == 0, log[-6000:]
    assert out.returncode == 0, out.stdout[-3000:] + log[-3000:]
    assert out.stdout.strip().splitlines()[-1] == f"cases {N_CASES} failed 0", out.stdout


def test_the_driver_passes_without_valgrind(driver):
    # the status codes themselves, natively and fast, for each built library
    built = [b for b, s in native.available().items() if s is True]
    if not built:
        pytest.skip(f"no native library built: {native.available()}")
    for backend in built:
        out = subprocess.run(
            [str(driver), str(native.library_dir() / native.LIBRARIES[backend])],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, (backend, out.stdout, out.stderr)
        assert out.stdout.strip() == f"cases {N_CASES} failed 0", out.stdout


_BROKEN_C = r"""
#include <stdint.h>
#include <stdlib.h>
int32_t scjax_abi_version(void) { return 1; }
int64_t scjax_state_size(const char *m) { return 2; }
int64_t scjax_param_size(const char *m) { return 5; }
int32_t scjax_default_params(const char *m, double *o, int64_t n) { return 0; }
int32_t scjax_initial_state(const char *m, const double *p, int64_t np, double *o, int64_t n)
{ return 0; }
const char *scjax_last_error(void) { return ""; }
int32_t scjax_simulate(const char *m, const char *i, const double *p, int64_t np,
                       const double *y0, const double *c, int64_t n, double dt, double *s,
                       uint8_t *k) {
    if (!c || !s || n <= 0 || n > 1000) return 1;  /* a crash would end the run early */
    double sum = 0.0;
    for (int64_t j = 0; j <= n; j++) sum += c[j];      /* one past the current */
    s[(n + 1) * 2] = sum;                                /* one past the states */
    return 0;
}
"""


def test_memcheck_catches_a_library_that_reads_and_writes_past_its_buffers(
    valgrind, driver, tmp_path
):
    # the control: the harness fails on exactly the bugs it is there to find
    src = tmp_path / "broken.c"
    src.write_text(_BROKEN_C)
    lib = tmp_path / "libbroken.so"
    subprocess.run(
        [shutil.which("gcc") or "cc", "-shared", "-fPIC", "-g", "-w", "-o", str(lib), str(src)],
        check=True,
    )
    out, log, errors = _memcheck(valgrind, driver, lib, tmp_path / "memcheck.log")
    assert out.returncode == 99 and errors >= 2
    assert "Invalid read of size 8" in log and "Invalid write of size 8" in log
    assert re.search(r"Invalid read of size 8\s+==\d+==\s+at 0x[0-9A-F]+: scjax_simulate", log)
