"""The Rust, Go and Mojo libraries of native/ against JAX, against each other, and against bad
input (through the Python loader and directly through ctypes: a crash would fail the run)."""

import ctypes
import math
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import threading

import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax import parity
from scjax.backends import native


def _loaded(backend: str) -> native.NativeLibrary:
    status = native.available()[backend]
    if status is not True:
        pytest.skip(f"{backend}: {status}")
    return native.load(backend)


@pytest.fixture(params=native.BACKENDS)
def backend(request) -> str:
    _loaded(request.param)
    return request.param


# --- the ABI's small functions ---------------------------------------------------------------

MODELS = {"izhikevich": scjax.Izhikevich, "hodgkin_huxley": scjax.HodgkinHuxley, "adex": scjax.AdEx}


def test_abi_sizes_and_defaults_match_the_python_models(backend):
    lib = native.load(backend)
    assert lib.abi_version == native.ABI_VERSION == 1
    for name, cls in MODELS.items():
        model = cls()
        assert lib.state_size(name) == model.n_state
        assert lib.param_size(name) == len(cls.param_names)
        # the field defaults, bit for bit
        np.testing.assert_array_equal(lib.default_params(name), np.asarray(model.param_vector()))


def test_initial_state_matches_python(backend):
    lib = native.load(backend)
    for name, cls in MODELS.items():
        model = cls.preset("LTS") if name == "izhikevich" else cls()
        got = lib.initial_state(name, np.asarray(model.param_vector()))
        # HH gates go through exp: libm and XLA agree to an ulp or two
        np.testing.assert_allclose(got, np.asarray(model.initial_state()), rtol=4e-16, atol=0)
    # the HH steady-state gates are the textbook values (Hodgkin & Huxley 1952, rest -65 mV)
    m0, h0, n0 = lib.initial_state("hodgkin_huxley", lib.default_params("hodgkin_huxley"))[1:]
    assert m0 == pytest.approx(0.0529325, abs=1e-6)
    assert h0 == pytest.approx(0.5961208, abs=1e-6)
    assert n0 == pytest.approx(0.3176769, abs=1e-6)


# --- parity with JAX (defaults and 5 random parameter sets, 1 000 steps) --------------------


def _parity_runs():
    """(model, integrator, label) for the suite of scjax.parity."""
    for name, case in parity.CASES.items():
        for integrator in case.integrators:
            yield name, integrator


@pytest.fixture(scope="module")
def jax_reference():
    """JAX float64 trajectories of the parity suite, computed once per module."""
    out = {}
    for name, integrator in _parity_runs():
        case = parity.CASES[name]
        current = case.current()
        sets = [None] + parity.random_params(case, 5)
        for i, params in enumerate(sets):
            model = case.model(params)
            y0 = np.asarray(model.initial_state())
            tr = scjax.simulate(
                model,
                jnp.asarray(current),
                case.dt,
                solver=scjax.solvers.solver_from_name(integrator, fast_mask=model.fast_mask),
                y0=y0,
            )
            out[name, integrator, i] = (model, current, y0, np.asarray(tr.y), np.asarray(tr.spikes))
    return out


@pytest.mark.parametrize("name,integrator", list(_parity_runs()))
def test_native_equals_jax_float64(backend, jax_reference, name, integrator):
    case = parity.CASES[name]
    n_spikes = 0
    for i in range(6):
        model, current, y0, y_ref, s_ref = jax_reference[name, integrator, i]
        tr = native.simulate(backend, model, current, case.dt, integrator=integrator, y0=y0)
        assert tr.y.shape == y_ref.shape == (parity.TRACE_STEPS + 1, model.n_state)
        scale = np.abs(y_ref).max(axis=0)
        err = np.abs(tr.y - y_ref).max(axis=0)
        tol = 1e-10 * scale
        if name == "hodgkin_huxley":
            tol[0] = max(tol[0], 1e-9)  # mV
        assert np.all(err <= tol), f"set {i}: errors {err} > {tol}"
        np.testing.assert_array_equal(tr.spikes, s_ref, err_msg=f"set {i}")
        assert tr.y[0].tolist() == y0.tolist()
        n_spikes += int(s_ref.sum())
    # the suite is not vacuous: every model fires several times per parameter set on average
    assert n_spikes >= 6 * 2


@pytest.mark.parametrize("name,integrator", list(_parity_runs()))
def test_three_languages_agree_bit_for_bit(name, integrator):
    # Rust, Go and Mojo evaluate the same expressions in the same order with libm's exp, and
    # none of them fuses multiply-adds: their trajectories are identical, not just close.
    libs = [b for b, ok in native.available().items() if ok is True]
    if len(libs) < 2:
        pytest.skip(f"needs two native libraries, have {libs}: {native.available()}")
    case = parity.CASES[name]
    params = parity.random_params(case, 1)[0]
    model = case.model(params)
    runs = [native.simulate(b, model, case.current(), case.dt, integrator=integrator) for b in libs]
    for b, tr in zip(libs[1:], runs[1:]):
        np.testing.assert_array_equal(tr.y, runs[0].y, err_msg=f"{b} vs {libs[0]}")
        np.testing.assert_array_equal(tr.spikes, runs[0].spikes)


def test_hh_removable_singularities_are_finite(backend):
    # alpha_m is 0/0 at V = -40 mV and alpha_n at V = -55 mV; exprel gives the limits 1 and 0.1.
    # One Euler step from V exactly there must equal a hand-computed step with those limits.
    model = scjax.HodgkinHuxley()
    p = np.asarray(model.param_vector())
    for v, gate in ((-40.0, "m"), (-55.0, "n")):
        y0 = np.array([v, 0.1, 0.6, 0.3])
        tr = native.simulate(backend, model, np.array([0.0]), 0.01, integrator="euler", y0=y0)
        dt = 0.01
        m, h, n = y0[1:]
        a_m = 1.0 if v == -40.0 else 0.1 * (v + 40) / (1 - math.exp(-(v + 40) / 10))
        a_n = 0.1 if v == -55.0 else 0.01 * (v + 55) / (1 - math.exp(-(v + 55) / 10))
        b_m = 4 * math.exp(-(v + 65) / 18)
        b_n = 0.125 * math.exp(-(v + 65) / 80)
        expect_m = m + dt * (a_m * (1 - m) - b_m * m)
        expect_n = n + dt * (a_n * (1 - n) - b_n * n)
        assert np.all(np.isfinite(tr.y))
        assert tr.y[1, 1] == pytest.approx(expect_m, rel=1e-14), gate
        assert tr.y[1, 3] == pytest.approx(expect_n, rel=1e-14), gate
        jx = scjax.simulate(
            model, jnp.array([0.0]), dt, solver=scjax.solvers.Euler(), y0=jnp.asarray(y0)
        )
        np.testing.assert_allclose(tr.y, np.asarray(jx.y), rtol=1e-15, atol=0)
    del p


def test_adex_exponent_is_clipped_at_30(backend):
    # With v_peak far above V_T + 30 Δ_T the clip is what bounds dV/dt: one Euler step from
    # V = 0 mV (arg = 25.2) and from V = 50 mV (arg 50.2 -> 30) against the formula.
    model = scjax.AdEx(v_peak=1000.0)
    c, g_l, e_l, v_t, d_t = 281.0, 30.0, -70.6, -50.4, 2.0
    for v in (0.0, 50.0):
        tr = native.simulate(
            backend, model, np.array([100.0]), 1e-11, integrator="euler", y0=np.array([v, 10.0])
        )
        arg = min((v - v_t) / d_t, 30.0)
        dv = (-g_l * (v - e_l) + g_l * d_t * math.exp(arg) - 10.0 + 100.0) / c
        assert not tr.spikes[0]
        assert tr.y[1, 0] == pytest.approx(v + 1e-11 * dv, rel=1e-14)


def test_trajectory_schema_and_divergence(backend):
    model = scjax.Izhikevich()
    tr = native.simulate(backend, model, np.full(50, 10.0), 0.5, integrator="half_euler", t0=2.0)
    ref = scjax.simulate(model, jnp.full(50, 10.0), 0.5)
    assert isinstance(tr, scjax.Trajectory)
    assert tr.state_names == ref.state_names == ("v", "u")
    assert tr.y.dtype == np.float64 and tr.y.shape == (51, 2) and tr.spikes.shape == (50,)
    np.testing.assert_array_equal(tr.t, 2.0 + 0.5 * np.arange(51))
    np.testing.assert_array_equal(tr.spike_signal, tr.spikes.astype(float))
    assert not bool(tr.diverged)
    # y0=None: the library's own initial state, equal to the model's
    np.testing.assert_array_equal(tr.y[0], np.asarray(model.initial_state()))
    # Explicit Euler on HH with dt = 1 ms blows up: no error, but `diverged`, as JAX's throw=False
    hh = native.simulate(backend, scjax.HodgkinHuxley(), np.full(200, 10.0), 1.0, "euler")
    jx = scjax.simulate(
        scjax.HodgkinHuxley(), jnp.full(200, 10.0), 1.0, solver=scjax.solvers.Euler(), throw=False
    )
    assert bool(hh.diverged) and bool(jx.diverged)


# --- bad input through the loader ----------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(current=np.array([])), "n_steps"),
        (dict(dt=0.0), "dt"),
        (dict(dt=-0.1), "dt"),
        (dict(dt=float("nan")), "dt"),
        (dict(dt=float("inf")), "dt"),
        (dict(current=np.array([1.0, np.nan, 2.0])), r"current\[1\]"),
        (dict(current=np.array([np.inf])), r"current\[0\]"),
        (dict(params=[0.02, 0.2, -65.0, 8.0]), "n_params"),
        (dict(params=[0.02, np.nan, -65.0, 8.0, 30.0]), r"params\[1\] \(b\)"),
        (dict(y0=[np.nan, 0.0]), r"y0\[0\]"),
        (dict(integrator="rk45"), "integrator"),
    ],
)
def test_loader_turns_bad_input_into_value_error(backend, kwargs, match):
    args = dict(current=np.full(10, 10.0), dt=0.1, integrator="rk4")
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        native.simulate(backend, scjax.Izhikevich(), **args)


def test_loader_rejects_models_it_has_no_library_for(backend):
    with pytest.raises(ValueError, match="model"):
        native.simulate(backend, scjax.LIF(), np.ones(5), 0.1)
    with pytest.raises(ValueError, match="model"):
        native.simulate(backend, "morris_lecar", np.ones(5), 0.1)
    with pytest.raises(ValueError, match="noise_std"):
        native.simulate(backend, scjax.Izhikevich(noise_std=1.0), np.ones(5), 0.1)
    with pytest.raises(ValueError, match=r"params\[0\] \(c\) must be positive"):
        native.simulate(
            backend,
            "adex",
            np.ones(5),
            0.1,
            params=[-1.0, 30, -70.6, -50.4, 2, 144, 4, 80.5, -70.6, 20],
        )
    with pytest.raises(ValueError, match="backend"):
        native.simulate("fortran", scjax.Izhikevich(), np.ones(5), 0.1)


def test_unavailable_reasons_are_explicit(tmp_path, monkeypatch):
    monkeypatch.setenv("SCJAX_NATIVE_DIR", str(tmp_path))
    status = native.available()
    assert all(s.startswith("missing-shared-library (run: make native)") for s in status.values())
    assert all("SCJAX_NATIVE_DIR" in s for s in status.values())
    (tmp_path / "libscjax_rust.so").write_bytes(b"not an ELF file")
    status = native.available()
    # garbage is reported as what it is (it once read "missing-runtime"), and never dlopened
    assert status["rust"].startswith("corrupt-shared-library: ")
    assert "not an ELF file" in status["rust"] and "make native" in status["rust"]
    with pytest.raises(native.NativeUnavailable, match="corrupt-shared-library"):
        native.simulate("rust", scjax.Izhikevich(), np.ones(3), 0.1)


# --- bad input straight through ctypes: every function, every library -----------------------


def _raw(backend):
    lib = ctypes.CDLL(str(native.library_dir() / native.LIBRARIES[backend]))
    d = ctypes.POINTER(ctypes.c_double)
    lib.scjax_state_size.restype = lib.scjax_param_size.restype = ctypes.c_int64
    lib.scjax_state_size.argtypes = lib.scjax_param_size.argtypes = [ctypes.c_char_p]
    lib.scjax_default_params.argtypes = [ctypes.c_char_p, d, ctypes.c_int64]
    lib.scjax_initial_state.argtypes = [ctypes.c_char_p, d, ctypes.c_int64, d, ctypes.c_int64]
    lib.scjax_last_error.restype = ctypes.c_char_p
    lib.scjax_simulate.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        d,
        ctypes.c_int64,
        d,
        d,
        ctypes.c_int64,
        ctypes.c_double,
        d,
        ctypes.POINTER(ctypes.c_uint8),
    ]
    for f in (lib.scjax_default_params, lib.scjax_initial_state, lib.scjax_simulate):
        f.restype = ctypes.c_int32
    return lib


def _buf(values):
    a = np.ascontiguousarray(values, np.float64)
    return a, a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def test_direct_ctypes_bad_input_returns_status_and_message(backend):
    lib = _raw(backend)
    assert lib.scjax_last_error() is not None  # never NULL
    params, p = _buf([0.02, 0.2, -65.0, 8.0, 30.0])
    y0, y = _buf([-65.0, -13.0])
    current, c = _buf(np.full(10, 10.0))
    states, s = _buf(np.full((11, 2), 123.0))
    spikes = (ctypes.c_uint8 * 10)()
    good = [b"izhikevich", b"rk4", p, 5, y, c, 10, 0.1, s, spikes]
    assert lib.scjax_simulate(*good) == 0
    ok_states = states.copy()

    def status(index, value):
        args = list(good)
        args[index] = value
        return lib.scjax_simulate(*args), lib.scjax_last_error().decode()

    names = {
        0: "model",
        1: "integrator",
        2: "params",
        4: "y0",
        5: "current",
        8: "out_states",
        9: "out_spikes",
    }
    for index, name in names.items():
        code, msg = status(index, None)
        assert code == 1 and f"{name} is NULL" in msg, (name, code, msg)
    bad_current, bc = _buf([1.0, np.inf] + [0.0] * 8)
    bad_params, bp = _buf([0.02, 0.2, np.nan, 8.0, 30.0])
    bad_y0, by = _buf([np.inf, 0.0])
    cases = [
        (0, b"lif", 2, "unknown model 'lif'"),
        (0, b"", 2, "unknown model"),
        (1, b"dopri5", 3, "unknown integrator 'dopri5'"),
        (3, 4, 4, "n_params must be 5"),
        (3, -1, 4, "n_params"),
        (3, 1 << 62, 4, "n_params"),
        (2, bp, 5, "params[2] (c) must be finite"),
        (4, by, 5, "y0[0] must be finite"),
        (6, 0, 5, "n_steps"),
        (6, -5, 5, "n_steps"),
        (6, 1 << 62, 5, "n_steps"),  # would overflow the output size: refused, nothing read
        (7, 0.0, 5, "dt"),
        (7, -1.0, 5, "dt"),
        (7, float("nan"), 5, "dt"),
        (7, float("inf"), 5, "dt"),
        (5, bc, 5, "current[1] must be finite"),
    ]
    for index, value, code, text in cases:
        got, msg = status(index, value)
        assert got == code and text in msg, (index, value, got, msg)
    # nothing was written by any failed call
    np.testing.assert_array_equal(states, ok_states)

    # the small functions
    assert lib.scjax_state_size(None) == -1 and "model is NULL" in lib.scjax_last_error().decode()
    assert lib.scjax_param_size(b"nope") == -1
    assert "unknown model 'nope'" in lib.scjax_last_error().decode()
    out, o = _buf(np.zeros(10))
    assert lib.scjax_default_params(b"adex", None, 10) == 1
    assert lib.scjax_default_params(b"adex", o, 9) == 4
    assert lib.scjax_default_params(None, o, 10) == 1
    assert lib.scjax_default_params(b"adex", o, 10) == 0 and out[0] == 281.0
    assert lib.scjax_initial_state(b"izhikevich", None, 5, o, 2) == 1
    assert lib.scjax_initial_state(b"izhikevich", p, 5, None, 2) == 1
    assert lib.scjax_initial_state(b"izhikevich", p, 5, o, 3) == 4
    assert lib.scjax_initial_state(b"izhikevich", bp, 5, o, 2) == 5
    assert lib.scjax_initial_state(b"izhikevich", p, 5, o, 2) == 0 and out[1] == 0.2 * -65.0


def test_build_script_skips_a_missing_toolchain_with_a_reason(tmp_path):
    # PATH holds only the shell tools build.sh needs: no cargo, no go, no mojo. Both compiled
    # languages are skipped with one line each and the script still succeeds.

    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("bash", "dirname", "mkdir", "cp", "mv", "mktemp", "grep", "rm", "cat"):
        found = shutil.which(tool)
        if found:
            (tools / tool).symlink_to(found)
    script = pathlib.Path(__file__).resolve().parents[1] / "native" / "build.sh"
    env = {"PATH": str(tools), "HOME": str(tmp_path), "SCJAX_NO_MOJO_INSTALL": "1"}
    out = subprocess.run(
        [str(tools / "bash"), str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "native: rust skipped: cargo not found" in out.stdout
    assert "native: go skipped: go not found" in out.stdout
    assert len([ln for ln in out.stdout.splitlines() if ln.startswith("native: mojo")]) == 1


_BITWISE_SCRIPT = r"""
import jax
jax.config.update("jax_enable_x64", True)
import numpy as np, scjax
from scjax import parity
from scjax.backends import native
case = parity.CASES["izhikevich"]
backends = [b for b, ok in native.available().items() if ok is True]
worst = 0.0
for params in [None] + parity.random_params(case, 2):
    model = case.model(params)
    y0 = np.asarray(model.initial_state())
    for integrator in case.integrators:
        ref = parity.JaxBackend().simulate(model, case.current(), case.dt, integrator, y0)
        for b in backends:
            tr = native.simulate(b, model, case.current(), case.dt, integrator, y0=y0)
            assert np.array_equal(tr.spikes, np.asarray(ref.spikes))
            worst = max(worst, float(np.abs(tr.y - np.asarray(ref.y)).max()))
print(len(backends), worst)
"""


def test_izhikevich_is_bit_identical_to_jax_when_xla_cannot_fuse():
    # The only rounding differences between JAX and the libraries on Izhikevich (no exp) are
    # XLA:CPU's fused multiply-adds. Capping XLA at AVX (no FMA instructions) removes them,
    # and then every trajectory must be identical to the last bit: the transcription is exact.
    if platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip(f"--xla_cpu_max_isa=AVX is an x86-64 flag; this is {platform.machine()}")
    if not any(ok is True for ok in native.available().values()):
        pytest.skip(f"no native library built: {native.available()}")
    env = {**os.environ, "XLA_FLAGS": "--xla_cpu_max_isa=AVX", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [sys.executable, "-c", _BITWISE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    n_backends, worst = out.stdout.split()
    assert int(n_backends) >= 1
    assert float(worst) == 0.0


# --- loading: one object per library, one probe per folder -----------------------------------


def _fresh_folder(tmp_path, monkeypatch) -> list[str]:
    """A folder never seen by this process, with symlinks to the built libraries."""
    built = [b for b, s in native.available().items() if s is True]
    if not built:
        pytest.skip(f"no native library built: {native.available()}")
    folder = tmp_path / "libs"
    folder.mkdir()
    for b in built:
        (folder / native.LIBRARIES[b]).symlink_to(native.library_dir() / native.LIBRARIES[b])
    monkeypatch.setenv("SCJAX_NATIVE_DIR", str(folder))
    return built


def test_concurrent_first_loads_make_one_object_per_library(tmp_path, monkeypatch):
    built = _fresh_folder(tmp_path, monkeypatch)
    n = 8 * len(built)
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def first_load(i):
        barrier.wait()
        results[i] = native.load(built[i % len(built)])

    threads = [threading.Thread(target=first_load, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for i, lib in enumerate(results):
        assert lib is results[i % len(built)], i
    assert len({id(lib) for lib in results}) == len(built)
    # and the one object's lock is the backend's one lock
    for b, lib in zip(built, results):
        assert lib._lock is native._LOCKS[b] and lib.path.parent == tmp_path / "libs"


def test_a_folder_is_probed_once_per_process(tmp_path, monkeypatch):
    built = _fresh_folder(tmp_path, monkeypatch)
    from scjax.backends import _native_probe

    calls = []
    real_popen = subprocess.Popen

    def counting_popen(cmd, *args, **kwargs):
        calls.append(cmd)
        return real_popen(cmd, *args, **kwargs)

    monkeypatch.setattr(_native_probe.subprocess, "Popen", counting_popen)
    for _ in range(3):
        assert all(native.available()[b] is True for b in built)
    # one subprocess for every library of the folder together
    assert len(calls) == 1
    assert sorted(p.rsplit("/", 1)[1] for p in calls[0] if p.endswith(".so")) == sorted(
        native.LIBRARIES[b] for b in built
    )


def test_build_script_copies_the_libraries_into_the_package(tmp_path):
    # build.sh in a scratch tree with no toolchain: it copies what native/build/ holds into
    # scjax/_native/ (rename, so a loaded file keeps its inode), once, and again when it changes.
    tree = tmp_path / "tree"
    (tree / "native" / "include").mkdir(parents=True)
    (tree / "native" / "build").mkdir()
    (tree / "scjax" / "_native").mkdir(parents=True)
    root = pathlib.Path(__file__).resolve().parents[1]
    shutil.copy(root / "native" / "build.sh", tree / "native" / "build.sh")
    shutil.copy(root / "native" / "include" / "scjax_native.h", tree / "native" / "include")
    built = tree / "native" / "build" / "libscjax_rust.so"
    built.write_bytes(b"first build")
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("bash", "dirname", "mkdir", "cp", "mv", "mktemp", "grep", "rm", "cat"):
        found = shutil.which(tool)
        if found:
            (tools / tool).symlink_to(found)
    env = {"PATH": str(tools), "HOME": str(tmp_path), "SCJAX_NO_MOJO_INSTALL": "1"}

    def build():
        out = subprocess.run(
            [str(tools / "bash"), str(tree / "native" / "build.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    copy = tree / "scjax" / "_native" / "libscjax_rust.so"
    assert "native: copied libscjax_rust.so into" in build()
    assert copy.read_bytes() == b"first build"
    inode = copy.stat().st_ino
    assert "copied" not in build()  # unchanged: not copied again
    built.write_bytes(b"second build")
    os.utime(built, (built.stat().st_atime, built.stat().st_mtime + 10))
    assert "native: copied libscjax_rust.so into" in build()
    assert copy.read_bytes() == b"second build" and copy.stat().st_ino != inode
    assert not (tree / "scjax" / "_native" / "libscjax_go.so").exists()
    assert sorted(p.name for p in copy.parent.iterdir()) == ["libscjax_rust.so"]


def test_library_dir_is_the_package_folder_unless_overridden(monkeypatch):
    import importlib.resources

    monkeypatch.delenv("SCJAX_NATIVE_DIR", raising=False)
    expect = pathlib.Path(str(importlib.resources.files("scjax"))) / "_native"
    assert native.library_dir() == expect
    assert expect.is_dir() and (expect / "README").is_file()
    monkeypatch.setenv("SCJAX_NATIVE_DIR", "/somewhere/else")
    assert native.library_dir() == pathlib.Path("/somewhere/else")


def test_models_declare_their_native_name():
    # the ABI's model set is read off the models, and the ABI's sizes agree with them
    assert native.native_models() == {
        "izhikevich": scjax.Izhikevich,
        "hodgkin_huxley": scjax.HodgkinHuxley,
        "adex": scjax.AdEx,
    }
    assert scjax.LIF.native_name is None and scjax.models.AbstractNeuronModel.native_name is None
    for name, cls in native.native_models().items():
        assert native.model_name(cls()) == native.model_name(name) == name
