"""SciPy backend: `scipy.integrate.solve_ivp` (DOP853 / Radau) with events, independent of JAX.

Every vector field is transcribed here in NumPy from the model docstrings (not called through
JAX), so agreement with `scjax.adaptive` checks the JAX models *and* the JAX integrators.
Parameters are read from the scjax model object (`model.params()` and its array fields).

The transcriptions live in one registry keyed by model class (`@_transcribes(LIF)`), not on
the model classes: they are a second, independent implementation that must be reviewed side
by side (one file, one style), and the JAX model files stay free of NumPy twins.

Resetting models stop at a terminal threshold event (root-found by `solve_ivp`), apply the reset
and restart; crossing models record non-terminal upward-crossing events. Output: the
`scjax.adaptive.Solution` of the in-process reference (its trajectory in the `scjax.Trajectory`
schema of `scjax.simulate`, plus the exact spike times).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt

from .. import models as _m
from .._trajectory import Trajectory
from ..adaptive import MAX_SPIKES, MAX_STEPS, RESULTS, Solution
from ..adaptive._arguments import (
    check_limits,
    check_tolerances,
    fixed_step_span,
    piecewise_current,
    save_grid,
)
from ..adaptive._solution import solution_from_samples
from ._base import AbstractBackend

#: Tight defaults: the golden traces and cross-validation use these.
RTOL: float = 1e-10
ATOL: float = 1e-12
METHODS: tuple[str, ...] = ("DOP853", "Radau")
#: Right-hand-side evaluations per step, bounding `max_steps` (DOP853 takes 12 per step,
#: Radau fewer plus its Newton iterations).
_EVALS_PER_STEP: int = 16


def available():
    """True, or the reason the backend cannot run."""
    try:
        import scipy.integrate  # noqa: F401
    except ImportError:  # pragma: no cover - scipy is in the dev extra
        return "scipy: not installed (pip install -e .[dev])"
    return True


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _exprel(z):
    return 1.0 + z / 2.0 + z * z / 6.0 if abs(z) < 1e-6 else math.expm1(z) / z


def _p(model, name):
    return float(np.asarray(getattr(model, name)))


#: model class → (model, scalar parameters) → NumPy `f(t, y, current) -> dy/dt`.
_VECTOR_FIELDS: dict[type, Callable] = {}
#: resetting model class → (model, scalar parameters) → NumPy reset map `y -> y'`.
_RESETS: dict[type, Callable] = {}


def _transcribes(cls):
    def register(make):
        _VECTOR_FIELDS[cls] = make
        return make

    return register


def _resets(cls):
    def register(make):
        _RESETS[cls] = make
        return make

    return register


def vector_field(model):
    """A NumPy `f(t, y, current) -> dy/dt` for a scjax model (ValueError for unknown models)."""
    make = _VECTOR_FIELDS.get(type(model))
    if make is None:
        raise ValueError(
            f"model {type(model).__name__} has no NumPy transcription in the scipy "
            f"backend; known: {sorted(c.__name__ for c in _VECTOR_FIELDS)}"
        )
    return make(model, {n: _p(model, n) for n in model.param_names})


def _reset(model):
    make = _RESETS.get(type(model))
    if make is None:
        raise ValueError(f"model {type(model).__name__}: no reset map in the scipy backend")
    return make(model, {n: _p(model, n) for n in model.param_names})


@_transcribes(_m.LIF)
def _lif(model, P):
    return lambda t, y, i: np.array([(-(y[0] - P["v_rest"]) + P["r_m"] * i) / P["tau_m"]])


@_transcribes(_m.Izhikevich)
def _izhikevich(model, P):
    a, b = P["a"], P["b"]
    return lambda t, y, i: np.array(
        [0.04 * y[0] ** 2 + 5 * y[0] + 140 - y[1] + i, a * (b * y[0] - y[1])]
    )


@_transcribes(_m.AdEx)
def _adex(model, P):
    def f(t, y, i):
        v = min(y[0], P["v_peak"])
        arg = min((v - P["v_t"]) / P["delta_t"], 30.0)
        dv = -P["g_l"] * (v - P["e_l"]) + P["g_l"] * P["delta_t"] * math.exp(arg) - y[1] + i
        return np.array([dv / P["c"], (P["a"] * (v - P["e_l"]) - y[1]) / P["tau_w"]])

    return f


@_transcribes(_m.HodgkinHuxley)
def _hodgkin_huxley(model, P):
    def f(t, y, i):
        v, m, h, n = y
        am = 1.0 / _exprel(-(v + 40.0) / 10.0)
        bm = 4.0 * math.exp(-(v + 65.0) / 18.0)
        ah = 0.07 * math.exp(-(v + 65.0) / 20.0)
        bh = 1.0 / (1.0 + math.exp(-(v + 35.0) / 10.0))
        an = 0.1 / _exprel(-(v + 55.0) / 10.0)
        bn = 0.125 * math.exp(-(v + 65.0) / 80.0)
        i_ion = (
            P["g_na"] * m**3 * h * (v - P["e_na"])
            + P["g_k"] * n**4 * (v - P["e_k"])
            + P["g_l"] * (v - P["e_l"])
        )
        return np.array(
            [
                (i - i_ion) / P["c_m"],
                am * (1 - m) - bm * m,
                ah * (1 - h) - bh * h,
                an * (1 - n) - bn * n,
            ]
        )

    return f


@_transcribes(_m.FitzHughNagumo)
def _fitzhugh_nagumo(model, P):
    return lambda t, y, i: np.array(
        [y[0] - y[0] ** 3 / 3 - y[1] + i, (y[0] + P["a"] - P["b"] * y[1]) / P["tau_w"]]
    )


@_transcribes(_m.MorrisLecar)
def _morris_lecar(model, P):
    def f(t, y, i):
        v, w = y
        m_inf = 0.5 * (1 + math.tanh((v - P["v1"]) / P["v2"]))
        w_inf = 0.5 * (1 + math.tanh((v - P["v3"]) / P["v4"]))
        i_ion = (
            P["g_l"] * (v - P["v_l"])
            + P["g_ca"] * m_inf * (v - P["v_ca"])
            + P["g_k"] * w * (v - P["v_k"])
        )
        return np.array(
            [
                (i - i_ion) / P["c"],
                P["phi"] * (w_inf - w) * math.cosh((v - P["v3"]) / (2 * P["v4"])),
            ]
        )

    return f


@_transcribes(_m.SCEquilibrium)
def _sc_equilibrium(model, P):
    return lambda t, y, i: np.array([(P["p"] + i - y[0]) / (P["n_bits"] * P["tau_clk"])])


@_transcribes(_m.GammaOscillation)
def _gamma_oscillation(model, P):
    def f(t, y, i):
        e, q = y
        return np.array(
            [
                (-e + _sigmoid(P["w_ee"] * e - P["w_ei"] * q + P["p_e"] + i)) / P["tau_e"],
                (-q + _sigmoid(P["w_ie"] * e - P["w_ii"] * q + P["p_i"])) / P["tau_i"],
            ]
        )

    return f


@_transcribes(_m.BiolekMemristor)
def _biolek_memristor(model, P):
    k = P["mu_v"] * P["r_on"] / P["d"] ** 2 * 1e-3

    def f(t, y, i):
        x = y[0]
        v = P["v_amp"] * math.sin(2 * math.pi * P["freq"] * t * 1e-3) + i
        cur = v / (P["r_on"] * x + P["r_off"] * (1 - x))
        stp = 1.0 if cur <= 0 else 0.0
        return np.array([k * cur * (1 - ((x - stp) ** 2) ** P["p"])])

    return f


@_transcribes(_m.Kuramoto)
def _kuramoto(model, P):
    omega = P["omega_mean"] + P["omega_std"] * np.asarray(model.z_omega, float)
    K = P["coupling"]  # noqa: N806

    def f(t, y, i):
        # The direct O(N²) double sum (the JAX model uses the mean-field identity).
        return omega + K * np.mean(np.sin(y[None, :] - y[:, None]), axis=1) + i

    return f


@_transcribes(_m.PredictiveCoding)
def _predictive_coding(model, P):
    u1, u2 = np.asarray(model.u1, float), np.asarray(model.u2, float)
    s, n1 = np.asarray(model.stimulus, float), model.n1

    def f(t, y, i):
        r1, r2 = y[:n1], y[n1:]
        p1, p2 = _sigmoid(u1 @ r1), _sigmoid(u2 @ r2)
        e0, e1 = s + i - p1, r1 - p2
        dr1 = u1.T @ (p1 * (1 - p1) * e0) / P["sigma0_sq"] - e1 / P["sigma1_sq"] - P["alpha"] * r1
        dr2 = u2.T @ (p2 * (1 - p2) * e1) / P["sigma1_sq"] - P["alpha"] * r2
        return np.concatenate([dr1, dr2]) / P["tau"]

    return f


@_transcribes(_m.Homeostasis)
def _homeostasis(model, P):
    def f(t, y, i):
        r, z = y
        e = r - P["r_target"]
        theta = P["theta0"] + P["k_p"] * e + P["k_i"] * z
        return np.array([(-r + P["r_max"] * _sigmoid((i - theta) / P["slope"])) / P["tau_r"], e])

    return f


@_transcribes(_m.Lindblad)
def _lindblad(model, P):
    sz = np.diag([1.0, -1.0]).astype(complex)
    sx = np.array([[0, 1], [1, 0]], complex)

    def f(t, y, i):
        rho = (y[:4] + 1j * y[4:]).reshape(2, 2)
        h = 0.5 * P["delta"] * sz + 0.5 * (P["omega"] + i) * sx
        d = -1j * (h @ rho - rho @ h) + P["gamma"] * (sz @ rho @ sz - rho)
        return np.concatenate([d.real.ravel(), d.imag.ravel()])

    return f


@_transcribes(_m.STDPCurve)
def _stdp(model, P):
    lags = np.asarray(model.lags, float)
    w = np.where(
        lags > 0,
        P["a_plus"] * np.exp(-lags / P["tau_plus"]),
        -P["a_minus"] * np.exp(lags / P["tau_minus"]),
    )
    pot, dep = np.maximum(w, 0), np.maximum(-w, 0)
    return lambda t, y, i: P["rate"] * (1 + i) * (pot * (P["w_max"] - y) - dep * y)


@_resets(_m.LIF)
def _lif_reset(model, P):
    return lambda y: np.array([P["v_reset"]])


@_resets(_m.Izhikevich)
def _izhikevich_reset(model, P):
    return lambda y: np.array([P["c"], y[1] + P["d"]])


@_resets(_m.AdEx)
def _adex_reset(model, P):
    return lambda y: np.array([P["v_reset"], y[1] + P["b"]])


class _Failed(Exception):
    """A segment could not be integrated (a blow-up, a stalled step, the step budget)."""


def solve(
    model,
    t_span,
    current: npt.ArrayLike = 0.0,
    *,
    method: str = "DOP853",
    rtol: float = RTOL,
    atol: float = ATOL,
    saveat: float = 0.1,
    current_dt: float | None = None,
    y0=None,
    max_spikes: int = MAX_SPIKES,
    max_steps: int = MAX_STEPS,
    throw: bool = True,
) -> Solution:
    """The SciPy counterpart of `scjax.adaptive.solve`, with the same arguments and result.

    `current` is a constant or a piecewise-constant trace (sample k over
    [t0 + k·current_dt, t0 + (k+1)·current_dt)); integration is restarted at every sample
    boundary where the trace changes, so no step straddles a jump. `max_steps` bounds the
    work of the whole solve (all segments) as 16·max_steps right-hand-side evaluations
    (`solve_ivp` itself has no step limit); reaching it, `max_spikes`, or a blow-up (a
    non-finite right-hand side) stops the solve: a `RuntimeError` if `throw`, else a
    `Solution` whose `result` says why and whose unsolved samples are NaN.
    """
    from scipy.integrate import solve_ivp

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    t0, t1, grid = save_grid(t_span, saveat)
    check_tolerances(rtol, atol)
    check_limits(max_spikes, max_steps)
    trace, cdt, jump_ts = piecewise_current(
        current, t0, saveat if current_dt is None else current_dt
    )
    n = grid.size - 1
    # Breakpoints: where the trace changes value (integration restarts there).
    breaks = ([] if jump_ts is None else [t for t in jump_ts if t0 < t < t1]) + [t1]
    f_model = vector_field(model)
    f = _budgeted(f_model, _EVALS_PER_STEP * max_steps)
    idx = model.spike_index
    thr = float(np.asarray(model.spike_threshold()))
    resetting = isinstance(model, _m.AbstractResettingModel)
    crossing = isinstance(model, _m.AbstractCrossingModel)
    reset = _reset(model) if resetting else None
    y = _initial_state(model, y0)
    ys = np.full((n + 1, y.size), np.nan)
    ys[0] = y
    spikes: list[float] = []
    n_steps = 0
    result = RESULTS.successful

    def cur_at(t):
        k = min(max(int(math.floor((t - t0) / cdt + 1e-12)), 0), trace.size - 1)
        return trace[k]

    event = _threshold_event(idx, thr, resetting, crossing)
    t = t0
    try:
        for t_break in breaks:
            i_now = cur_at(0.5 * (t + t_break))
            while t < t_break:
                sol = solve_ivp(
                    f,
                    (t, t_break),
                    y,
                    method=method,
                    rtol=rtol,
                    atol=atol,
                    dense_output=True,
                    args=(i_now,),
                    events=event,
                )
                n_steps += sol.t.size - 1
                t_seg, y_end, spiked = _segment_end(sol, f_model, i_now, idx, thr, resetting)
                _sample_segment(ys, grid, t, t_seg, sol, y_end)
                if crossing:
                    spikes.extend(float(s) for s in sol.t_events[0])
                if spiked:
                    assert reset is not None  # only a resetting model spikes here
                    spikes.append(t_seg)
                    y = reset(y_end)
                    _sample_reset(ys, grid, t_seg, y)
                else:
                    y = y_end
                t = t_seg
                if len(spikes) >= max_spikes and t < t1:
                    raise _Failed(RESULTS.max_spikes_reached)
    except _Failed as e:
        result = e.args[0]
        ys[grid > t] = np.nan
    out = solution_from_samples(model, grid, ys, spikes[:max_spikes], n_steps=n_steps)
    out = Solution(
        trajectory=out.trajectory,
        spike_times=out.spike_times,
        n_spikes=out.n_spikes,
        n_steps=out.n_steps,
        result=result,
    )
    if throw and not bool(result == RESULTS.successful):
        raise RuntimeError(
            f"scipy solve_ivp stopped at t = {t}: {RESULTS[result]} "
            f"(max_spikes = {max_spikes}, max_steps = {max_steps})"
        )
    return out


def _threshold_event(idx: int, thr: float, resetting: bool, crossing: bool):
    """The `solve_ivp` event of an upward threshold crossing (terminal for a resetting
    model: the solve restarts after the reset), or None for a model without spikes."""
    if not (resetting or crossing):
        return None

    def event(t, y, i):
        return y[idx] - thr

    event.direction = 1.0
    event.terminal = resetting
    return event


def _initial_state(model, y0) -> np.ndarray:
    y = np.asarray(model.initial_state() if y0 is None else y0, float).copy()
    if y.shape != (model.n_state,) or not np.all(np.isfinite(y)):
        raise ValueError(f"y0 must be finite with shape ({model.n_state},), got {y0!r}")
    return y


def _sample_reset(ys, grid, t_spike: float, y_reset) -> None:
    """A spike exactly on a save time: the sample there is the state after the reset."""
    k = int(np.searchsorted(grid, t_spike, side="left"))
    if k < grid.size and grid[k] == t_spike:
        ys[k] = y_reset


def _budgeted(f_model, max_evals: int):
    """`f_model` stopping the solve (`_Failed`) past `max_evals` evaluations, on a float error
    or a non-finite derivative."""
    evals = 0

    def f(t, y, i):
        nonlocal evals
        evals += 1
        if evals > max_evals:
            raise _Failed(RESULTS.solve_failed)
        try:
            dy = f_model(t, y, i)
        except (OverflowError, ZeroDivisionError, ValueError) as e:
            raise _Failed(RESULTS.solve_failed) from e
        if not np.all(np.isfinite(dy)):
            raise _Failed(RESULTS.solve_failed)
        return dy

    return f


def _segment_end(sol, f_model, i_now, idx, thr, resetting) -> tuple[float, np.ndarray, bool]:
    """Where a `solve_ivp` segment ended: (time, state, whether a threshold crossing of a
    resetting model stopped it)."""
    if sol.status == -1:
        t_seg, y_end = _stalled_upstroke(sol, f_model, i_now, idx, thr, resetting)
        return t_seg, y_end, True
    if resetting and sol.status == 1:
        return float(sol.t_events[0][0]), sol.y_events[0][0], True
    if sol.t.size < 2:
        # no step was taken (e.g. a current so large the first step fails): there is no
        # dense output to sample, and no progress to make
        raise _Failed(RESULTS.solve_failed)
    return float(sol.t[-1]), sol.y[:, -1], False


def _sample_segment(ys, grid, t, t_seg, sol, y_end) -> None:
    """Write the save-grid samples in [t, t_seg] of a segment into `ys`."""
    sel = (grid >= t) & (grid <= t_seg)
    if not sel.any():
        return
    if sol.t.size < 2:  # spiked at once: the state held until the reset
        ys[sel] = y_end
    else:
        ys[sel] = sol.sol(np.minimum(grid[sel], float(sol.t[-1]))).T


def _stalled_upstroke(sol, f, i_now, idx, thr, resetting):
    """solve_ivp stops ("step size less than spacing between numbers") on AdEx's upstroke,
    where dv/dt reaches ~1e12 mV/ms (the clipped exponential). There the remaining time to the
    threshold, (v_th − v)/(dv/dt), is far below 1e-9 ms: count the spike at t + that time
    (the same tolerance as `scjax.adaptive.DTMIN`). Anything else is a genuine failure."""
    t_last, y_last = float(sol.t[-1]), sol.y[:, -1]
    rate = f(t_last, y_last, i_now)[idx]
    remaining = (thr - y_last[idx]) / rate if rate > 0 else np.inf
    if not (resetting and 0 <= remaining < 1e-9):
        raise _Failed(RESULTS.solve_failed)
    y_spk = y_last.copy()
    y_spk[idx] = thr
    return t_last + remaining, y_spk


def simulate(
    model,
    current,
    dt,
    *,
    t0: float = 0.0,
    y0=None,
    method: str = "DOP853",
    rtol: float = RTOL,
    atol: float = ATOL,
    throw: bool = True,
    **kwargs,
) -> Trajectory:
    """`scjax.simulate`'s interface: `current[n]` holds over [t0 + n·dt, t0 + (n+1)·dt) and the
    trajectory is sampled every `dt` (`t [T+1]`, `y [T+1, n_state]`, `spikes [T]`)."""
    del kwargs  # accepted for interface compatibility (key, solver, surrogate: not used here)
    current, span = fixed_step_span(current, dt, t0)
    return solve(
        model,
        span,
        current,
        method=method,
        rtol=rtol,
        atol=atol,
        saveat=dt,
        current_dt=dt,
        y0=y0,
        throw=throw,
    ).trajectory


# --- an independent Hopf locator ----------------------------------------------------------


def _leading_growth_rate(f, y, current) -> float:
    """The largest real part of the eigenvalues of `f`'s central-difference Jacobian at `y`."""
    cols = []
    for k in range(y.shape[0]):
        h = 1e-6 * max(1.0, abs(y[k]))
        e = np.zeros_like(y)
        e[k] = h
        cols.append((f(0.0, y + e, current) - f(0.0, y - e, current)) / (2 * h))
    return float(np.max(np.linalg.eigvals(np.stack(cols, axis=1)).real))


def hopf_current(model, lo: float, hi: float, *, y_guess=None, xtol: float = 1e-10) -> float:
    """The current in [lo, hi] at which the real part of the fixed point's leading eigenvalue
    crosses zero (a Hopf point where they are a complex pair), computed without JAX.

    An independent reference for `scjax.analysis.dynamics.bifurcation_scan` (JAX Jacobian,
    Newton in a box, bisection): this file's NumPy transcription of the vector field, its
    fixed point by `scipy.optimize.root` (hybr, continued from the previous current, starting
    at `y_guess`, default `model.initial_state()`), the largest real part of the eigenvalues
    of a central-difference Jacobian (h = 1e-6·max(1, |y|)), and `scipy.optimize.brentq` on
    it (`xtol` in the current's units). The rate must change sign between `lo` and `hi`.
    Measured: Morris–Lecar's two Hopf points and Hodgkin–Huxley's agree with transcriptions
    that reduce the fixed point to one equation in V (the tests' former oracles) within
    3e-9.
    """
    from scipy.optimize import brentq, root

    f = vector_field(model)
    guess = np.asarray(model.initial_state() if y_guess is None else y_guess, dtype=float)

    def growth(current: float) -> float:
        nonlocal guess
        sol = root(lambda y: f(0.0, y, current), guess, method="hybr", tol=1e-12)
        # hybr reports "no further improvement" at the float64 floor: the residual decides.
        if not (sol.success or np.max(np.abs(f(0.0, sol.x, current))) < 1e-10):
            raise ValueError(
                f"{type(model).__name__}: no fixed point found at current {current:g} from "
                f"{guess} ({sol.message}); pass a y_guess near it"
            )
        guess = sol.x
        return _leading_growth_rate(f, sol.x, current)

    current, _ = brentq(growth, lo, hi, xtol=xtol, full_output=True)
    return float(current)


class SciPyBackend(AbstractBackend):
    """`solve_ivp` through the backend protocol: an adaptive reference."""

    name: ClassVar[str] = "scipy"
    supports_adaptive: ClassVar[bool] = True
    method: str = "DOP853"
    rtol: float = RTOL
    atol: float = ATOL

    def available(self) -> Literal[True] | str:
        return available()

    def simulate(self, model, current, dt, integrator: str | None = None, y0=None) -> Trajectory:
        if integrator is not None:
            raise ValueError(
                f"integrator must be None for the adaptive scipy backend, got {integrator!r}"
            )
        return simulate(
            model, current, dt, y0=y0, method=self.method, rtol=self.rtol, atol=self.atol
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
        return solve(
            model,
            t_span,
            current,
            method=self.method,
            rtol=self.rtol,
            atol=self.atol,
            saveat=saveat,
            current_dt=current_dt,
            y0=y0,
        )
