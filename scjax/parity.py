"""Parity of `scjax.simulate` against independent backends on shared deterministic traces.

Every backend runs the same models, parameters, initial states and current traces as JAX
(float64); each trajectory is compared with JAX's, state by state, and the spike trains must be
identical. `scjax parity` (scjax/cli/_parity.py) prints the table and writes it as JSON.

Backends live in a small registry of `scjax.backends.AbstractBackend`s (`name`,
`supports_adaptive`, `available()` True or a reason string, `simulate(model, current, dt, *,
integrator, y0) -> scjax.Trajectory`, raising `NotImplementedError` for an integrator it does not
have): the native libraries, SciPy and Julia. `register(backend)` adds one.

Error measures, per state component c over the whole trace (T+1 samples):
    max_abs = max_n |y_c[n] − ref_c[n]|,   max_rel = max_c max_abs_c / max_n |ref_c[n]|
(normwise relative error: components that cross zero, like Izhikevich's u, are measured
against their own scale).

Two verdicts, by the backend's kind:
- fixed-step backends (native) run the same recurrence: they pass when every component's
  max_abs ≤ max(NATIVE_RTOL·max|ref_c|, atol_c) and the spike trains are identical; atol_c is
  1e-9 mV for the Hodgkin–Huxley voltage and 0 elsewhere;
- adaptive references (SciPy, Julia: the exact solution, not the recurrence) are judged by the
  cross-validation suite's rule for a fixed-step path against the reference: spike count
  within ±SPIKE_COUNT_ATOL and within SPIKE_RATE_RTOL of the reference's (the state errors are
  reported, not judged: a fixed step's truncation error is not a disagreement).
"""

import dataclasses
import platform
import sys
import time
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import numpy as np

from .backends import julia as julia_backend
from .backends import native
from .backends import scipy as scipy_backend
from .backends._base import AbstractBackend
from .models import AdEx, HodgkinHuxley, Izhikevich

#: Steps of the shared trace.
TRACE_STEPS = 1000
#: Seed of the shared traces and of the random parameter sets.
TRACE_SEED = 20251126
#: Relative tolerance of the fixed-step backends (same recurrence, different machinery).
NATIVE_RTOL = 1e-10
#: Absolute tolerance on the Hodgkin–Huxley voltage (mV).
HH_VOLTAGE_ATOL = 1e-9
#: The seed's rule for a fixed-step path against an adaptive reference (the cross-validation
#: suite's): spike count within ±2 and firing rate within 5 %.
SPIKE_COUNT_ATOL = 2
SPIKE_RATE_RTOL = 0.05


@dataclasses.dataclass(frozen=True)
class ParityCase:
    """One model of the parity suite and its shared current trace.

    The trace is I[n] = noise·ξ[n] + (n ≥ step_at·T)·(level + ramp·n/T) with ξ ~ N(0, 1)
    from `numpy.random.default_rng(TRACE_SEED + seed_offset)`: a subthreshold noisy start,
    then a step and a ramp that drive regular then faster firing.
    """

    model_class: type  # a scjax model class; its `system_name` names the case
    dt: float  # ms
    level: float  # current units of the model
    ramp: float
    noise: float
    integrators: tuple[str, ...]
    seed_offset: int
    step_at: float = 0.1

    @property
    def name(self) -> str:
        return self.model_class.system_name

    def as_dict(self) -> dict:
        """The case as JSON-able data (the model by its `system_name`)."""
        fields = dataclasses.asdict(self)
        del fields["model_class"]
        return {"name": self.name, **fields}

    def model(self, params=None):
        """The scjax model with default parameters, or with the vector `params`."""
        cls = self.model_class
        if params is None:
            return cls()
        return cls(**{k: float(v) for k, v in zip(cls.param_names, np.asarray(params))})

    def current(self, n_steps: int = TRACE_STEPS) -> np.ndarray:
        rng = np.random.default_rng(TRACE_SEED + self.seed_offset)
        frac = np.arange(n_steps, dtype=np.float64) / n_steps
        drive = (frac >= self.step_at) * (self.level + self.ramp * frac)
        return drive + self.noise * rng.standard_normal(n_steps)


#: The suite: Izhikevich (dimensionless current, 200 ms), Hodgkin–Huxley (µA/cm², 50 ms),
#: AdEx (pA, 100 ms; v_peak = 20 mV, so the clipped exponential is exercised on each upstroke).
#: The steps are those of typical use; much coarser ones (Izhikevich at 0.5 ms) make the
#: quadratic upstroke amplify rounding differences past 1e-10 before the reset.
CASES: dict[str, ParityCase] = {
    case.name: case
    for case in (
        ParityCase(Izhikevich, 0.2, 6.0, 6.0, 1.0, ("half_euler", "euler", "rk4"), 0),
        ParityCase(HodgkinHuxley, 0.05, 6.0, 6.0, 1.0, ("euler", "rk4"), 1),
        ParityCase(AdEx, 0.1, 600.0, 400.0, 25.0, ("euler", "rk4"), 2),
    )
}


def random_params(
    case: ParityCase, n_sets: int, *, spread: float = 0.15, seed: int = TRACE_SEED
) -> list[np.ndarray]:
    """`n_sets` parameter vectors: each default multiplied by an independent factor drawn
    uniformly from [1 − spread, 1 + spread] (seeded, so the sets are the same everywhere)."""
    defaults = np.asarray(case.model().param_vector(), np.float64)
    rng = np.random.default_rng(seed + 1000 + case.seed_offset)
    return [
        defaults * rng.uniform(1.0 - spread, 1.0 + spread, defaults.size) for _ in range(n_sets)
    ]


# --- backends ------------------------------------------------------------------------------


class JaxBackend(AbstractBackend):
    """`scjax.simulate` (and `scjax.adaptive.solve`) in float64: the reference every other
    backend is compared to."""

    name: ClassVar[str] = "jax"
    supports_adaptive: ClassVar[bool] = True

    def available(self) -> Literal[True] | str:
        import jax

        # jax.config's options are attributes set at run time, unknown to a type checker.
        if not jax.config.jax_enable_x64:  # pyright: ignore[reportAttributeAccessIssue]
            return "float64-disabled (jax.config.update('jax_enable_x64', True))"
        return True

    def simulate(self, model, current, dt, integrator: str | None = None, y0=None):
        import jax.numpy as jnp

        import scjax
        from scjax.solvers import solver_from_name

        solver = (
            None if integrator is None else solver_from_name(integrator, fast_mask=model.fast_mask)
        )
        return scjax.simulate(
            model,
            jnp.asarray(current, jnp.float64),
            dt,
            solver=solver,
            y0=None if y0 is None else jnp.asarray(y0, jnp.float64),
            throw=False,
        )

    def solve(
        self,
        model,
        t_span,
        current=0.0,
        *,
        saveat: float = 0.1,
        current_dt: float | None = None,
        y0=None,
    ):
        from scjax import adaptive

        return adaptive.solve(model, t_span, current, saveat=saveat, current_dt=current_dt, y0=y0)


#: name → backend; the reference ("jax") is not in it.
BACKENDS: dict[str, AbstractBackend] = {}


def register(backend: AbstractBackend) -> None:
    """Add a backend (an `scjax.backends.AbstractBackend`)."""
    if not isinstance(backend, AbstractBackend):
        raise ValueError(
            f"backend must be an scjax.backends.AbstractBackend, got {type(backend).__name__}"
        )
    BACKENDS[backend.name] = backend


for _name in native.BACKENDS:
    register(native.NativeBackend(_name))
register(scipy_backend.SciPyBackend())
# Always registered: without Julia its rows say why (`available()`), like an unbuilt library.
register(julia_backend.JuliaBackend())


# --- comparison ----------------------------------------------------------------------------


def compare(ref, other, *, rtol: float, model_name: str) -> dict:
    """Errors of trajectory `other` against `ref` and whether they are within tolerance."""
    y_ref = np.asarray(ref.y, np.float64)
    y = np.asarray(other.y, np.float64)
    s_ref = np.asarray(ref.spikes, bool)
    s = np.asarray(other.spikes, bool)
    if y.shape != y_ref.shape or s.shape != s_ref.shape:
        return dict(
            max_abs=float("inf"),
            max_rel=float("inf"),
            spikes_ref=int(s_ref.sum()),
            spike_count_diff=None,
            spikes_identical=False,
            passed=False,
            error=f"shape {y.shape} != reference {y_ref.shape}",
        )
    with np.errstate(invalid="ignore"):
        abs_err = np.abs(y - y_ref).max(axis=0)
    abs_err = np.where(np.isfinite(abs_err), abs_err, np.inf)
    scale = np.abs(y_ref).max(axis=0)
    atol = np.zeros_like(scale)
    if model_name == "hodgkin_huxley":
        atol[0] = HH_VOLTAGE_ATOL
    tol = np.maximum(rtol * scale, atol)
    rel = np.where(scale > 0, abs_err / np.where(scale > 0, scale, 1.0), abs_err)
    identical = bool(np.array_equal(s, s_ref))
    return dict(
        max_abs=float(abs_err.max()),
        max_rel=float(rel.max()),
        max_abs_per_state=dict(zip(ref.state_names, map(float, abs_err))),
        spikes_ref=int(s_ref.sum()),
        spike_count_diff=int(s.sum()) - int(s_ref.sum()),
        spikes_identical=identical,
        passed=bool(np.all(abs_err <= tol)) and identical,
    )


def compare_spike_rate(ref, other, *, model_name: str) -> dict:
    """`compare`'s error measures, with the verdict of the seed's rate rule: `ref` (the
    fixed-step JAX run) passes against the adaptive `other` when its spike count is within
    ±SPIKE_COUNT_ATOL and SPIKE_RATE_RTOL of `other`'s."""
    out = compare(ref, other, rtol=0.0, model_name=model_name)
    if out["spike_count_diff"] is None:
        return out
    n_exact = int(np.asarray(other.spikes, bool).sum())
    diff = abs(out["spike_count_diff"])
    out["passed"] = bool(diff <= SPIKE_COUNT_ATOL and diff <= SPIKE_RATE_RTOL * n_exact)
    return out


def run_parity(
    *,
    models=None,
    backends=None,
    integrators=None,
    n_random: int = 5,
    n_steps: int = TRACE_STEPS,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Run every case × integrator × parameter set × backend; return the JSON-able report.

    Needs float64 JAX (`jax.config.update("jax_enable_x64", True)`); the library never
    switches it on itself, `scjax parity` does.
    """
    import jax

    # jax.config's options are attributes set at run time, unknown to a type checker.
    if not jax.config.jax_enable_x64:  # pyright: ignore[reportAttributeAccessIssue]
        raise ValueError("parity needs float64: call jax.config.update('jax_enable_x64', True)")
    models = _chosen("models", models, CASES)
    backends = _chosen("backends", backends, BACKENDS)
    if n_random < 0:
        raise ValueError(f"n_random must be >= 0, got {n_random}")
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    reference = JaxBackend()
    status = {name: BACKENDS[name].available() for name in backends}
    rows = []
    exact: dict[tuple, object] = {}  # adaptive solutions, shared by the integrators
    for model_name in models:
        case = CASES[model_name]
        current = case.current(n_steps)
        param_sets = [("default", None)] + [
            (f"random{i}", p) for i, p in enumerate(random_params(case, n_random))
        ]
        for integrator in case.integrators:
            if integrators is not None and integrator not in integrators:
                continue
            for label, params in param_sets:
                model = case.model(params)
                y0 = np.asarray(model.initial_state(), np.float64)
                start = time.perf_counter()
                ref = reference.simulate(model, current, case.dt, integrator=integrator, y0=y0)
                ref.y.block_until_ready()
                ref_seconds = time.perf_counter() - start
                for name in backends:
                    row: dict[str, Any] = dict(
                        model=model_name,
                        integrator=integrator,
                        params=label,
                        backend=name,
                        dt=case.dt,
                        n_steps=n_steps,
                        jax_seconds=ref_seconds,
                    )
                    exact_key = (name, model_name, label)
                    run = (model, current, case.dt, integrator, y0)
                    row.update(
                        _check_backend(BACKENDS[name], status[name], ref, run, exact_key, exact)
                    )
                    rows.append(row)
                    if log is not None and row["available"]:
                        log(_format_row(row))
    checked = [r for r in rows if r.get("available")]
    return dict(
        trace=dict(
            n_steps=n_steps,
            seed=TRACE_SEED,
            n_random=n_random,
            cases={m: CASES[m].as_dict() for m in models},
        ),
        backends={name: (True if s is True else str(s)) for name, s in status.items()},
        rows=rows,
        n_checked=len(checked),
        n_failed=sum(1 for r in checked if not r["passed"]),
        passed=all(r["passed"] for r in checked),
        machine=dict(
            platform=platform.platform(), python=sys.version.split()[0], jax=jax.__version__
        ),
    )


def _chosen(what: str, names, known) -> list:
    """The names of `known` that `names` selects (all when None), checked."""
    chosen = list(known) if names is None else list(names)
    for name in chosen:
        if name not in known:
            raise ValueError(f"{what} must be among {tuple(known)}, got {name!r}")
    return chosen


def _check_backend(backend, status, ref, run, exact_key, exact: dict) -> dict[str, Any]:
    """A report row's outcome for one backend on `run = (model, current, dt, integrator,
    y0)` against the JAX trajectory `ref`: unavailable, unsupported, or the comparison. An
    adaptive backend's solution does not depend on the integrator: it is computed once per
    parameter set (`exact[exact_key]`) and compared with every integrator's."""
    if status is not True:
        return dict(available=False, reason=str(status), passed=None)
    model, current, dt, integrator, y0 = run
    model_name = exact_key[1]
    start = time.perf_counter()
    try:
        if backend.supports_adaptive:
            if exact_key not in exact:
                exact[exact_key] = backend.simulate(model, current, dt, y0=y0)
            tr = exact[exact_key]
        else:
            tr = backend.simulate(model, current, dt, integrator=integrator, y0=y0)
    except NotImplementedError as e:
        return dict(available=False, reason=f"unsupported ({e})", passed=None)
    seconds = time.perf_counter() - start
    if backend.supports_adaptive:
        compared = dict(rule="spike_rate", **compare_spike_rate(ref, tr, model_name=model_name))
    else:
        compared = dict(
            rtol=NATIVE_RTOL, **compare(ref, tr, rtol=NATIVE_RTOL, model_name=model_name)
        )
    return dict(seconds=seconds, available=True, **compared)


def _format_row(r: dict) -> str:
    head = f"{r['model']:15s} {r['integrator']:10s} {r['params']:8s} {r['backend']:6s}"
    if not r.get("available"):
        return f"{head} unavailable: {r['reason']}"
    verdict = "pass" if r["passed"] else "FAIL"
    return (
        f"{head} {verdict}  max_abs {r['max_abs']:.2e}  max_rel {r['max_rel']:.2e}  "
        f"spikes {r['spikes_ref']:3d} (diff {r['spike_count_diff']:+d})"
    )
