"""Julia backend: DifferentialEquations.jl (OrdinaryDiffEq) through ONE warm juliacall session.

`fusion_solver.jl` (one right-hand side per system, ContinuousCallback events) and
`neuron_zoo.jl` (EnsembleProblem populations) are package data of scjax (`scjax/_data/julia`,
found with `importlib.resources`; the repository's `reference/julia/` links to them). They are
loaded once, on first use, into a juliacall session kept for the life of the process.
Parameters go in as arrays (the model's `param_names` order, plus its `array_param_names`),
trajectories come back as arrays: no subprocess per call, no stdout parsing. Output: the
`scjax.adaptive.Solution` of the in-process reference.

Needs `pip install -e .[julia]` (juliacall) and a Julia runtime already installed (on PATH, or
named by `PYTHON_JULIAPKG_EXE`, or installed by juliapkg into this environment);
`available()` returns the reason when not, without starting Julia and without letting
juliacall download one.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import os
import pathlib
import re
import shutil
import sys
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import numpy.typing as npt

from .._trajectory import Trajectory
from ..adaptive import Solution
from ..adaptive._arguments import (
    check_tolerances,
    fixed_step_span,
    piecewise_current,
    save_grid,
)
from ..adaptive._solution import solution_from_samples
from ._base import AbstractBackend, BackendUnavailable

#: DifferentialEquations.jl algorithms this backend accepts by name.
ALGORITHMS: tuple[str, ...] = (
    "Tsit5",
    "Vern7",
    "Vern9",
    "DP8",
    "Rodas5P",
    "Rodas4",
    "Rosenbrock23",
)
_NO_JULIACALL = "julia: juliacall not installed (pip install -e .[julia])"


def julia_dir() -> pathlib.Path:
    """The folder of the Julia scripts and their Project.toml (package data of scjax)."""
    folder = importlib.resources.files("scjax") / "_data" / "julia"
    if not isinstance(folder, pathlib.Path):  # pragma: no cover - a zipped install
        raise BackendUnavailable(f"julia: the Julia scripts are not a folder on disk ({folder})")
    return folder


def julia_system_names() -> tuple[str, ...]:
    """The systems `fusion_solver.jl` defines (its `SYSTEM_NAMES`), read from the script."""
    text = (julia_dir() / "fusion_solver.jl").read_text()
    match = re.search(r"const SYSTEM_NAMES = \[(.*?)\]", text, re.S)
    if match is None:
        raise ValueError("fusion_solver.jl has no `const SYSTEM_NAMES = [...]`")
    return tuple(re.findall(r'"(\w+)"', match.group(1)))


def julia_executable() -> str | None:
    """A Julia runtime juliacall would use without downloading one, or None.

    Looked up as juliapkg does before it would install Julia itself: `PYTHON_JULIAPKG_EXE`,
    then juliapkg's install folder in this environment (`PYTHON_JULIAPKG_PROJECT`, default
    `<sys.prefix>/julia_env`, then `pyjuliapkg/install/bin/julia`), then `julia` on PATH."""
    candidates = [os.environ.get("PYTHON_JULIAPKG_EXE")]
    project = os.environ.get("PYTHON_JULIAPKG_PROJECT") or os.path.join(sys.prefix, "julia_env")
    candidates.append(os.path.join(project, "pyjuliapkg", "install", "bin", "julia"))
    candidates.append(shutil.which("julia"))
    for exe in candidates:
        if exe and os.path.isfile(exe) and os.access(exe, os.X_OK):
            return exe
    return None


class JuliaEntry(Protocol):
    """A Julia entry point (`FusionSolver.solve_system`, `NeuronZoo.solve_population`): the
    system's name, parameters (a vector, or `[n_params, n_pop]` columns), array parameters
    and initial state(s), the time span and the piecewise-constant current trace with its
    sample step; returns (t, u, spike times or counts)."""

    def __call__(
        self,
        name: str,
        p: np.ndarray,
        arrays: dict,
        u0: np.ndarray,
        tspan: tuple[float, float],
        trace: np.ndarray,
        current_dt: float,
        *,
        alg: str,
        saveat: float,
        reltol: float,
        abstol: float,
    ) -> tuple: ...


class Session(Protocol):
    """What the backend needs from a Julia session (the real one wraps juliacall; tests pass
    a fake with the same two methods): the two entry points, which take the same arguments."""

    @property
    def solve_system(self) -> JuliaEntry: ...

    @property
    def solve_population(self) -> JuliaEntry: ...


class JuliaCallSession:
    """The real session: one juliacall `Main`, the two reference files included once."""

    def __init__(self):
        folder = julia_dir()
        try:
            # juliacall: the optional `julia` extra, absent from the checked environment.
            from juliacall import Main as jl  # noqa: N813  # pyright: ignore[reportMissingImports]

            jl.seval("import Pkg")
            jl.Pkg.activate(str(folder))
            jl.Pkg.instantiate()
            jl.include(str(folder / "fusion_solver.jl"))
            jl.include(str(folder / "neuron_zoo.jl"))
        except Exception as e:  # juliacall raises URLError, JuliaError, ... : one clear type
            raise BackendUnavailable(
                f"julia: could not start the Julia session ({type(e).__name__}: {e}); "
                f"check the runtime ({julia_executable()}) and that {folder / 'Project.toml'} "
                "can be instantiated"
            ) from e
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

    def _call(
        self, solver, name, p, arrays, u0, tspan, trace, current_dt, *, alg, saveat, reltol, abstol
    ) -> tuple:
        """One call of a Julia entry point with `Session`'s arguments, converted as Julia
        reads them; its three results back as NumPy arrays."""
        out = solver(
            name,
            p,
            self._dict(arrays),
            u0,
            tuple(tspan),
            trace,
            float(current_dt),
            alg=self._alg(alg),
            saveat=float(saveat),
            reltol=float(reltol),
            abstol=float(abstol),
        )
        return tuple(np.asarray(x) for x in out)

    def solve_system(self, *args, **kwargs) -> tuple:
        return self._call(self._jl.FusionSolver.solve_system, *args, **kwargs)

    def solve_population(self, *args, **kwargs) -> tuple:
        return self._call(self._jl.NeuronZoo.solve_population, *args, **kwargs)


_SESSION: Session | None = None


def available() -> Literal[True] | str:
    """True, or the reason the backend cannot run (checked without starting Julia)."""
    try:
        if importlib.util.find_spec("juliacall") is None:
            return _NO_JULIACALL
    except (ImportError, ValueError):
        return _NO_JULIACALL
    try:
        script = julia_dir() / "fusion_solver.jl"
    except BackendUnavailable as e:  # pragma: no cover - a zipped install
        return str(e)
    if not script.exists():
        return f"julia: {script} is missing"
    if julia_executable() is None:
        return (
            "julia: juliacall is installed but no Julia runtime was found "
            "(PYTHON_JULIAPKG_EXE, juliapkg's install folder, PATH); juliacall would "
            "download one: install Julia (https://julialang.org/downloads) or set "
            "PYTHON_JULIAPKG_EXE"
        )
    return True


def session() -> Session:
    """The process's one warm Julia session (started on first use)."""
    global _SESSION
    if _SESSION is None:
        reason = available()
        if reason is not True:
            raise BackendUnavailable(reason)
        _SESSION = JuliaCallSession()
    return _SESSION


def set_session(s: Session | None) -> None:
    """Install a session object (tests use a fake; None forgets the current one)."""
    global _SESSION
    _SESSION = s


def marshal(model) -> tuple[str, np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """(system name, parameter vector in `param_names` order, array parameters, u0)."""
    name = model.system_name
    if name is None:
        raise ValueError(
            f"model {type(model).__name__} has no Julia counterpart; known: "
            f"{sorted(julia_system_names())}"
        )
    p = np.array([float(np.asarray(getattr(model, n))) for n in model.param_names], np.float64)
    arrays = {f: np.asarray(getattr(model, f), np.float64) for f in model.array_param_names}
    u0 = np.asarray(model.initial_state(), np.float64)
    return name, p, arrays, u0


def to_solution(model, t, u, spike_times, grid) -> Solution:
    """Julia's (t, u, spike_times) → `Solution` on `grid`. Checks shapes and that Julia saved
    exactly the requested grid."""
    t, u = np.asarray(t, np.float64), np.asarray(u, np.float64)
    if u.ndim != 2 or u.shape != (grid.size, model.n_state):
        raise ValueError(
            f"julia returned u of shape {u.shape}, expected {(grid.size, model.n_state)}"
        )
    atol = 1e-9 * max(1.0, abs(grid[-1]))
    if t.shape != grid.shape or not np.allclose(t, grid, rtol=0, atol=atol):
        raise ValueError("julia returned a time grid different from the requested saveat grid")
    return solution_from_samples(model, grid, u, spike_times)


def _run_inputs(t_span, current, alg, saveat, rtol, atol, current_dt):
    """The checked run inputs both entry points hand to Julia after the model's own: (save
    grid, (tspan, host current trace, its sample step), keyword options of `Session`)."""
    if alg not in ALGORITHMS:
        raise ValueError(f"alg must be one of {ALGORITHMS}, got {alg!r}")
    t0, t1, grid = save_grid(t_span, saveat)
    check_tolerances(rtol, atol)
    traced, cdt, _ = piecewise_current(current, t0, saveat if current_dt is None else current_dt)
    trace = np.asarray(traced)  # Julia reads host arrays (a concrete trace already is one)
    options = {"alg": alg, "saveat": saveat, "reltol": rtol, "abstol": atol}
    return grid, ((t0, t1), trace, cdt), options


def solve(
    model,
    t_span,
    current: npt.ArrayLike = 0.0,
    *,
    alg: str = "Tsit5",
    saveat: float = 0.1,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    current_dt: float | None = None,
    session_: Session | None = None,
) -> Solution:
    """The Julia counterpart of `scjax.adaptive.solve` (`n_steps` is not reported: -1)."""
    name, p, arrays, u0 = marshal(model)
    grid, args, options = _run_inputs(t_span, current, alg, saveat, rtol, atol, current_dt)
    s = session() if session_ is None else session_
    t, u, spikes = s.solve_system(name, p, arrays, u0, *args, **options)
    return to_solution(model, t, u, spikes, grid)


def simulate(
    model,
    current,
    dt,
    *,
    t0: float = 0.0,
    alg: str = "Tsit5",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    session_: Session | None = None,
    **kwargs,
) -> Trajectory:
    """`scjax.simulate`'s interface: `current[n]` holds over [t0 + n·dt, t0 + (n+1)·dt)."""
    del kwargs
    current, span = fixed_step_span(current, dt, t0)
    return solve(
        model,
        span,
        current,
        alg=alg,
        saveat=dt,
        rtol=rtol,
        atol=atol,
        current_dt=dt,
        session_=session_,
    ).trajectory


def solve_population(
    models,
    t_span,
    current: npt.ArrayLike = 0.0,
    *,
    alg: str = "Tsit5",
    saveat: float = 0.1,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    session_: Session | None = None,
):
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
    _, args, options = _run_inputs(t_span, current, alg, saveat, rtol, atol, None)
    s = session() if session_ is None else session_
    t, u, counts = s.solve_population(name, p, packed[0][2], u0, *args, **options)
    u = np.asarray(u, np.float64)
    if u.shape[0] != len(models) or u.shape[2] != models[0].n_state:
        raise ValueError(f"julia returned a population of shape {u.shape}")
    return np.asarray(t), u, np.asarray(counts)


class JuliaBackend(AbstractBackend):
    """DifferentialEquations.jl through the backend protocol: an adaptive reference."""

    name: ClassVar[str] = "julia"
    supports_adaptive: ClassVar[bool] = True
    alg: str = "Tsit5"
    rtol: float = 1e-8
    atol: float = 1e-10
    session_: Session | None = None

    def available(self) -> Literal[True] | str:
        return True if self.session_ is not None else available()

    def simulate(self, model, current, dt, integrator: str | None = None, y0=None) -> Trajectory:
        if integrator is not None:
            raise ValueError(
                f"integrator must be None for the adaptive julia backend, got {integrator!r}"
            )
        if y0 is not None:
            _check_default_y0(model, y0)
        return simulate(
            model, current, dt, alg=self.alg, rtol=self.rtol, atol=self.atol, session_=self.session_
        )

    def solve(
        self,
        model,
        t_span,
        current: npt.ArrayLike = 0.0,
        *,
        saveat: float = 0.1,
        current_dt: float | None = None,
        y0=None,
    ) -> Solution:
        if y0 is not None:
            _check_default_y0(model, y0)
        return solve(
            model,
            t_span,
            current,
            alg=self.alg,
            saveat=saveat,
            rtol=self.rtol,
            atol=self.atol,
            current_dt=current_dt,
            session_=self.session_,
        )


def _check_default_y0(model, y0) -> None:
    """The Julia scripts start every system from `model.initial_state()` (they take no y0)."""
    if not np.array_equal(np.asarray(y0, np.float64), np.asarray(model.initial_state())):
        raise NotImplementedError("the julia backend starts from model.initial_state() only")
