"""Julia backend: DifferentialEquations.jl (OrdinaryDiffEq) through ONE warm juliacall session.

`reference/julia/fusion_solver.jl` (one right-hand side per system, ContinuousCallback events)
and `neuron_zoo.jl` (EnsembleProblem populations) are loaded once, on first use, into a
juliacall session kept for the life of the process. Parameters go in as arrays (the model's
`param_names` order, plus its array fields), trajectories come back as arrays: no subprocess
per call, no stdout parsing. Output: the `scjax.Trajectory` schema, plus exact spike times.

Needs `pip install -e .[julia]` (juliacall) and a Julia that can instantiate
`reference/julia/Project.toml`; `available()` returns the reason when not.
"""

from __future__ import annotations

import pathlib
from typing import Any, Protocol

import numpy as np

from .. import models as _m
from .._trajectory import Trajectory
from .._validation import save_grid

JULIA_DIR = pathlib.Path(__file__).resolve().parents[2] / "reference" / "julia"
#: DifferentialEquations.jl algorithms this backend accepts by name.
ALGORITHMS: tuple[str, ...] = ("Tsit5", "Vern7", "Vern9", "DP8", "Rodas5P", "Rodas4", "Rosenbrock23")

#: scjax model class → system name in fusion_solver.jl.
SYSTEM_NAMES: dict[type, str] = {
    _m.LIF: "lif", _m.Izhikevich: "izhikevich", _m.HodgkinHuxley: "hodgkin_huxley",
    _m.SCEquilibrium: "sc_equilibrium", _m.FitzHughNagumo: "fitzhugh_nagumo",
    _m.AdEx: "adex", _m.MorrisLecar: "morris_lecar", _m.GammaOscillation: "gamma_oscillation",
    _m.BiolekMemristor: "biolek_memristor", _m.Kuramoto: "kuramoto",
    _m.PredictiveCoding: "predictive_coding", _m.Homeostasis: "homeostasis",
    _m.Lindblad: "lindblad", _m.STDPCurve: "stdp",
}
#: The array (non-scalar) parameters each system passes, by field name.
ARRAY_FIELDS: dict[str, tuple[str, ...]] = {
    "kuramoto": ("z_omega",), "predictive_coding": ("u1", "u2", "stimulus"), "stdp": ("lags",),
}


class Session(Protocol):
    """What the backend needs from a Julia session (the real one wraps juliacall; tests pass
    a fake with the same two methods)."""

    def solve_system(self, name: str, p: np.ndarray, arrays: dict, u0: np.ndarray,
                     tspan: tuple[float, float], trace: np.ndarray, current_dt: float, *,
                     alg: str, saveat: float, reltol: float, abstol: float) -> tuple: ...

    def solve_population(self, name: str, p: np.ndarray, arrays: dict, u0: np.ndarray,
                         tspan: tuple[float, float], trace: np.ndarray, current_dt: float, *,
                         alg: str, saveat: float, reltol: float, abstol: float) -> tuple: ...


class JuliaCallSession:
    """The real session: one juliacall `Main`, the two reference files included once."""

    def __init__(self):
        from juliacall import Main as jl  # noqa: N813  (heavy: starts Julia)

        jl.seval("import Pkg")
        jl.Pkg.activate(str(JULIA_DIR))
        jl.Pkg.instantiate()
        jl.include(str(JULIA_DIR / "fusion_solver.jl"))
        jl.include(str(JULIA_DIR / "neuron_zoo.jl"))
        self._jl = jl
        self._algs: dict[str, Any] = {}

    def _alg(self, name: str):
        if name not in self._algs:
            self._algs[name] = self._jl.seval(f"OrdinaryDiffEq.{name}()")
        return self._algs[name]

    def _dict(self, arrays: dict):
        # numpy arrays convert to Julia `PyArray`s (logical indexing, strides respected);
        # fusion_solver.jl copies each into an `Array{Float64}`.
        d = self._jl.seval("Dict{String, Any}()")
        for k, v in arrays.items():
            d[k] = np.ascontiguousarray(v, dtype=np.float64)
        return d

    def solve_system(self, name, p, arrays, u0, tspan, trace, current_dt, *, alg, saveat,
                     reltol, abstol):
        t, u, spikes = self._jl.FusionSolver.solve_system(
            name, p, self._dict(arrays), u0, tuple(tspan), trace, float(current_dt),
            alg=self._alg(alg), saveat=float(saveat), reltol=float(reltol), abstol=float(abstol))
        return np.asarray(t), np.asarray(u), np.asarray(spikes)

    def solve_population(self, name, p, arrays, u0, tspan, trace, current_dt, *, alg, saveat,
                         reltol, abstol):
        t, u, counts = self._jl.NeuronZoo.solve_population(
            name, p, self._dict(arrays), u0, tuple(tspan), trace, float(current_dt),
            alg=self._alg(alg), saveat=float(saveat), reltol=float(reltol), abstol=float(abstol))
        return np.asarray(t), np.asarray(u), np.asarray(counts)


_SESSION: Session | None = None


def available():
    """True, or the reason the backend cannot run (checked without starting Julia)."""
    try:
        import importlib.util

        if importlib.util.find_spec("juliacall") is None:
            return "julia: juliacall not installed (pip install -e .[julia])"
    except (ImportError, ValueError):
        return "julia: juliacall not installed (pip install -e .[julia])"
    if not (JULIA_DIR / "fusion_solver.jl").exists():
        return f"julia: {JULIA_DIR / 'fusion_solver.jl'} is missing"
    return True


def session() -> Session:
    """The process's one warm Julia session (started on first use)."""
    global _SESSION
    if _SESSION is None:
        reason = available()
        if reason is not True:
            raise RuntimeError(reason)
        _SESSION = JuliaCallSession()
    return _SESSION


def set_session(s: Session | None) -> None:
    """Install a session object (tests use a fake; None forgets the current one)."""
    global _SESSION
    _SESSION = s


def marshal(model) -> tuple[str, np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """(system name, parameter vector in `param_names` order, array parameters, u0)."""
    name = SYSTEM_NAMES.get(type(model))
    if name is None:
        raise ValueError(f"model {type(model).__name__} has no Julia counterpart; known: "
                         f"{sorted(c.__name__ for c in SYSTEM_NAMES)}")
    p = np.array([float(np.asarray(getattr(model, n))) for n in model.param_names], np.float64)
    arrays = {f: np.asarray(getattr(model, f), np.float64) for f in ARRAY_FIELDS.get(name, ())}
    u0 = np.asarray(model.initial_state(), np.float64)
    return name, p, arrays, u0


def _trace(current, t0: float, saveat: float, current_dt: float | None):
    trace = np.atleast_1d(np.asarray(current, np.float64))
    if trace.ndim != 1 or not np.all(np.isfinite(trace)):
        raise ValueError("current must be a finite scalar or 1-D trace")
    return trace, (saveat if current_dt is None else float(current_dt))


def to_trajectory(model, t, u, spike_times, grid) -> tuple[Trajectory, np.ndarray]:
    """Julia's (t, u, spike_times) → (`Trajectory` on `grid`, spike times). Checks shapes and
    that Julia saved exactly the requested grid."""
    t, u = np.asarray(t, np.float64), np.asarray(u, np.float64)
    spike_times = np.asarray(spike_times, np.float64).reshape(-1)
    if u.ndim != 2 or u.shape != (grid.size, model.n_state):
        raise ValueError(f"julia returned u of shape {u.shape}, expected {(grid.size, model.n_state)}")
    if t.shape != grid.shape or not np.allclose(t, grid, rtol=0, atol=1e-9 * max(1.0, abs(grid[-1]))):
        raise ValueError("julia returned a time grid different from the requested saveat grid")
    n = grid.size - 1
    bins = np.searchsorted(grid, spike_times, side="left") - 1
    counts = np.zeros(n, int)
    np.add.at(counts, bins[(bins >= 0) & (bins < n)], 1)
    traj = Trajectory(t=grid, y=u, spikes=counts > 0, spike_signal=(counts > 0).astype(float),
                      state_names=tuple(model.state_names),
                      diverged=np.bool_(~np.all(np.isfinite(u))))
    return traj, spike_times


def solve(model, t_span, current=0.0, *, alg: str = "Tsit5", saveat: float = 0.1,
          rtol: float = 1e-8, atol: float = 1e-10, current_dt: float | None = None,
          session_: Session | None = None):
    """The Julia counterpart of `scjax.reference.solve`: returns (Trajectory, spike_times)."""
    if alg not in ALGORITHMS:
        raise ValueError(f"alg must be one of {ALGORITHMS}, got {alg!r}")
    t0, t1, grid = save_grid(t_span, saveat)
    name, p, arrays, u0 = marshal(model)
    trace, cdt = _trace(current, t0, saveat, current_dt)
    s = session() if session_ is None else session_
    t, u, spikes = s.solve_system(name, p, arrays, u0, (t0, t1), trace, cdt, alg=alg,
                                  saveat=saveat, reltol=rtol, abstol=atol)
    return to_trajectory(model, t, u, spikes, grid)


def simulate(model, current, dt, *, t0: float = 0.0, alg: str = "Tsit5", rtol: float = 1e-8,
             atol: float = 1e-10, session_: Session | None = None, **kwargs) -> Trajectory:
    """`scjax.simulate`'s interface: `current[n]` holds over [t0 + n·dt, t0 + (n+1)·dt)."""
    del kwargs
    current = np.asarray(current, np.float64)
    if current.ndim != 1 or current.size == 0:
        raise ValueError(f"current must be a non-empty 1-D array, got shape {current.shape}")
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be positive and finite, got {dt}")
    traj, _ = solve(model, (t0, t0 + current.size * dt), current, alg=alg, saveat=dt, rtol=rtol,
                    atol=atol, current_dt=dt, session_=session_)
    return traj


def solve_population(models, t_span, current=0.0, *, alg: str = "Tsit5", saveat: float = 0.1,
                     rtol: float = 1e-8, atol: float = 1e-10, session_: Session | None = None):
    """Several parameter sets of one system in one `EnsembleProblem` (neuron_zoo.jl).
    Returns (t [T+1], y [n_pop, T+1, n_state], spike counts [n_pop])."""
    models = list(models)
    if not models:
        raise ValueError("models must be a non-empty sequence")
    packed = [marshal(m) for m in models]
    names = {pk[0] for pk in packed}
    if len(names) != 1:
        raise ValueError(f"models must all be the same system, got {sorted(names)}")
    name = names.pop()
    p = np.stack([pk[1] for pk in packed], axis=1)  # (n_params, n_pop)
    u0 = np.stack([pk[3] for pk in packed], axis=1)  # (n_state, n_pop)
    t0, t1 = float(t_span[0]), float(t_span[1])
    trace, cdt = _trace(current, t0, saveat, None)
    s = session() if session_ is None else session_
    t, u, counts = s.solve_population(name, p, packed[0][2], u0, (t0, t1), trace, cdt, alg=alg,
                                      saveat=saveat, reltol=rtol, abstol=atol)
    u = np.asarray(u, np.float64)
    if u.shape[0] != len(models) or u.shape[2] != models[0].n_state:
        raise ValueError(f"julia returned a population of shape {u.shape}")
    return np.asarray(t), u, np.asarray(counts)
