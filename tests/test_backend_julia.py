"""Julia backend: everything around the Julia call, tested with a fake session.

The fake stands in for juliacall: it checks what the backend marshals (system name,
parameter order, array parameters, grid) and answers with arrays computed here from closed
forms, so the conversion back to `scjax.Trajectory` is checked against independent numbers.
The real call is tested only where Julia is installed.
"""

import numpy as np
import pytest

import scjax
from scjax import adaptive
from scjax.backends import julia as jb


class FakeSession:
    """Solves LIF in closed form from the parameter vector it receives (so a wrong parameter
    order gives wrong numbers), and records every call."""

    def __init__(self):
        self.calls = []

    def solve_system(
        self, name, p, arrays, u0, tspan, trace, current_dt, *, alg, saveat, reltol, abstol
    ):
        self.calls.append(
            dict(
                name=name,
                p=p,
                arrays=arrays,
                u0=u0,
                tspan=tspan,
                trace=trace,
                current_dt=current_dt,
                alg=alg,
                saveat=saveat,
            )
        )
        assert name == "lif" and np.all(trace == trace[0])  # closed form: constant drive
        tau, v_rest, v_th, v_reset, r_m = p
        v_inf = v_rest + r_m * trace[0]
        first = tau * np.log((v_inf - u0[0]) / (v_inf - v_th))
        isi = tau * np.log((v_inf - v_reset) / (v_inf - v_th))
        t = tspan[0] + saveat * np.arange(int(round((tspan[1] - tspan[0]) / saveat)) + 1)
        spikes = first + isi * np.arange(0, int((t[-1] - first) // isi) + 1)
        k = np.searchsorted(spikes, t, side="left")
        since = t - np.concatenate([[0.0], spikes])[k]
        start = np.where(k == 0, u0[0], v_reset)
        v = v_inf + (start - v_inf) * np.exp(-since / tau)
        return t, v[:, None], spikes

    def solve_population(
        self, name, p, arrays, u0, tspan, trace, current_dt, *, alg, saveat, reltol, abstol
    ):
        self.calls.append(dict(name=name, p=p, u0=u0))
        n_t = int(round((tspan[1] - tspan[0]) / saveat)) + 1
        y = np.zeros((p.shape[1], n_t, u0.shape[0]))
        return np.arange(n_t) * saveat, y, np.arange(p.shape[1])


def test_available_reason_without_juliacall():
    reason = jb.available()
    try:
        import juliacall  # noqa: F401
    except ImportError:
        assert reason == "julia: juliacall not installed (pip install -e .[julia])"
    else:  # installed: available exactly when a runtime is found without downloading one
        if jb.julia_executable() is None:
            assert "no Julia runtime was found" in reason
        else:
            assert reason is True


def test_marshal_parameter_order_and_arrays():
    name, p, arrays, u0 = jb.marshal(scjax.AdEx(b=70.0))
    assert name == "adex" and p.dtype == np.float64
    assert list(p) == [281.0, 30.0, -70.6, -50.4, 2.0, 144.0, 4.0, 70.0, -70.6, 20.0]
    np.testing.assert_array_equal(u0, [-70.6, 0.0])
    name, p, arrays, _ = jb.marshal(scjax.models.PredictiveCoding())
    assert name == "predictive_coding" and arrays["u1"].shape == (8, 4)
    assert arrays["u2"].shape == (4, 2) and arrays["stimulus"].shape == (8,)
    assert set(jb.julia_system_names()) == set(adaptive.SYSTEMS)
    assert all(s.model_class.system_name == n for n, s in adaptive.SYSTEMS.items())
    with pytest.raises(ValueError, match="no Julia counterpart"):
        jb.marshal(scjax.models.FixedPointLIF())


def test_solve_round_trip_with_fake_session():
    fake = FakeSession()
    # Over 1 s, the cross-validation span, so the in-process reference reuses its compile.
    sol = jb.solve(scjax.LIF(v_reset=-70.0), (0.0, 1000.0), 20.0, session_=fake)
    traj, spikes = sol.trajectory, sol.spike_times_array()
    call = fake.calls[-1]
    assert call["alg"] == "Tsit5" and call["saveat"] == 0.1 and call["tspan"] == (0.0, 1000.0)
    # From rest (−65): τ ln(20/5) to the first spike, then τ ln(25/5) from the −70 reset.
    first, isi = 20 * np.log(4.0), 20 * np.log(5.0)
    np.testing.assert_allclose(
        spikes, first + isi * np.arange(int((1000.0 - first) // isi) + 1), rtol=1e-12
    )
    assert traj.y.shape == (10001, 1) and traj.spikes.shape == (10000,)
    bins = [int(np.ceil(s / 0.1)) - 1 for s in spikes]
    assert list(np.nonzero(np.asarray(traj.spikes))[0]) == bins
    # Same schema and the same numbers as the in-process reference.
    ref = adaptive.solve(scjax.LIF(v_reset=-70.0), (0.0, 1000.0), 20.0)
    np.testing.assert_allclose(spikes, ref.spike_times_array(), atol=1e-8)
    np.testing.assert_allclose(traj.y, ref.trajectory.y, atol=1e-7)
    assert traj.state_names == ref.trajectory.state_names


def test_simulate_interface_and_argument_checks():
    fake = FakeSession()
    traj = jb.simulate(scjax.LIF(), np.full(50, 20.0), 0.1, session_=fake)
    assert traj.t.shape == (51,) and fake.calls[-1]["current_dt"] == 0.1
    with pytest.raises(ValueError, match="alg"):
        jb.solve(scjax.LIF(), (0.0, 1.0), alg="Euler", session_=fake)
    with pytest.raises(ValueError, match="t_span"):
        jb.solve(scjax.LIF(), (1.0, 0.0), session_=fake)

    class BadGrid(FakeSession):
        def solve_system(self, *a, **k):
            t, u, s = super().solve_system(*a, **k)
            return t[:-1], u[:-1], s

    with pytest.raises(ValueError, match="shape"):
        jb.solve(scjax.LIF(), (0.0, 10.0), 20.0, session_=BadGrid())


def test_population_packs_columns():
    fake = FakeSession()
    models = [scjax.Izhikevich.preset(n) for n in ("RS", "IB", "CH")]
    t, y, counts = jb.solve_population(models, (0.0, 10.0), 10.0, session_=fake)
    p = fake.calls[-1]["p"]
    assert p.shape == (5, 3) and list(p[2]) == [-65.0, -55.0, -50.0]  # c of RS, IB, CH
    assert y.shape == (3, 101, 2) and t.shape == (101,)
    with pytest.raises(ValueError, match="same system"):
        jb.solve_population([scjax.LIF(), scjax.AdEx()], (0.0, 1.0), session_=fake)


class _FakeMain:
    """juliacall's `Main` as `JuliaCallSession` uses it: `seval` and the two modules."""

    def __init__(self):
        self.calls = []
        self.FusionSolver = type("M", (), {"solve_system": staticmethod(self._entry("system"))})
        self.NeuronZoo = type("M", (), {"solve_population": staticmethod(self._entry("pop"))})

    def seval(self, code):
        return {} if code == "Dict{String, Any}()" else ("alg", code)

    def _entry(self, which):
        def solve(*args, **kwargs):
            self.calls.append((which, args, kwargs))
            return [0.0, 0.5], [[1.0], [2.0]], [0.25]

        return solve


def test_the_session_converts_both_entry_points_alike():
    session = object.__new__(jb.JuliaCallSession)  # no juliacall: its Main is faked
    session._jl, session._algs = _FakeMain(), {}
    weights = np.arange(6.0).reshape(2, 3)[:, ::2]  # not contiguous, not float64 below
    args = ("kuramoto", np.ones(2), {"w": weights.astype(np.float32)}, np.zeros(2))
    options = dict(alg="Tsit5", saveat=np.float32(0.5), reltol=1, abstol=np.float64(1e-9))
    for entry in (session.solve_system, session.solve_population):
        t, u, out = entry(*args, [0, 1], np.zeros(3), np.float32(0.5), **options)
        assert [type(x) for x in (t, u, out)] == [np.ndarray] * 3 and u.shape == (2, 1)
    (w1, a1, k1), (w2, a2, k2) = session._jl.calls
    assert (w1, w2) == ("system", "pop") and (a1[4], a1[6]) == ((0, 1), 0.5)
    assert (
        k1 == k2 == dict(alg=("alg", "OrdinaryDiffEq.Tsit5()"), saveat=0.5, reltol=1.0, abstol=1e-9)
    )
    assert all(type(v) is float for v in (a1[6], k1["saveat"], k1["reltol"], k1["abstol"]))
    for passed in (a1[2]["w"], a2[2]["w"]):
        assert passed.dtype == np.float64 and passed.flags.c_contiguous
        np.testing.assert_array_equal(passed, weights)


def test_real_julia_matches_reference():
    reason = jb.available()
    if reason is not True:
        pytest.skip(reason)
    spikes = jb.solve(scjax.LIF(), (0.0, 100.0), 20.0).spike_times_array()
    ref = adaptive.solve(scjax.LIF(), (0.0, 100.0), 20.0)
    np.testing.assert_allclose(spikes, ref.spike_times_array(), atol=1e-6)


@pytest.fixture
def juliacall_without_runtime(tmp_path, monkeypatch):
    """An importable (never imported) juliacall, and no Julia anywhere juliapkg would look."""
    (tmp_path / "juliacall").mkdir()
    (tmp_path / "juliacall" / "__init__.py").write_text("raise ImportError('not for import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("PYTHON_JULIAPKG_EXE", raising=False)
    monkeypatch.setenv("PYTHON_JULIAPKG_PROJECT", str(tmp_path / "julia_env"))
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    jb.set_session(None)
    return tmp_path


def test_juliacall_without_a_runtime_is_unavailable_with_a_reason(juliacall_without_runtime):
    reason = jb.available()
    assert isinstance(reason, str) and "no Julia runtime was found" in reason
    assert jb.JuliaBackend().available() == reason
    with pytest.raises(jb.BackendUnavailable, match="no Julia runtime was found"):
        jb.simulate(scjax.LIF(), np.full(10, 20.0), 0.1)
    # A runtime on PATH (an executable file named julia) makes it available.
    exe = juliacall_without_runtime / "bin" / "julia"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    assert jb.julia_executable() == str(exe) and jb.available() is True
    jb.set_session(None)


def test_scripts_are_package_data():
    import pathlib

    folder = jb.julia_dir()
    assert folder.parts[-3:] == ("scjax", "_data", "julia")
    for name in ("fusion_solver.jl", "neuron_zoo.jl", "Project.toml"):
        assert (folder / name).is_file()
        # the repository's reference/julia/ keeps links to them
        link = pathlib.Path(__file__).resolve().parents[1] / "reference" / "julia" / name
        assert link.resolve() == (folder / name).resolve()


def test_backend_protocol_with_fake_session():
    backend = jb.JuliaBackend(session_=FakeSession())
    assert backend.name == "julia" and backend.supports_adaptive and backend.available() is True
    sol = backend.solve(scjax.LIF(), (0.0, 100.0), 20.0)
    np.testing.assert_allclose(
        sol.spike_times_array(), 20.0 * np.log(4.0) * np.arange(1, 4), rtol=1e-12
    )
    assert int(sol.n_steps) == -1  # not reported by the Julia scripts
    with pytest.raises(ValueError, match="integrator"):
        backend.simulate(scjax.LIF(), np.full(10, 20.0), 0.1, integrator="euler")
    with pytest.raises(ValueError, match="rtol"):
        jb.solve(scjax.LIF(), (0.0, 1.0), rtol=float("nan"), session_=FakeSession())
