"""SciPy backend: `scipy.integrate.solve_ivp` (DOP853 / Radau) with events, independent of JAX.

Every vector field is transcribed here in NumPy from the model docstrings (not called through
JAX), so agreement with `scjax.reference` checks the JAX models *and* the JAX integrators.
Parameters are read from the scjax model object (`model.params()` and its array fields).

Resetting models stop at a terminal threshold event (root-found by `solve_ivp`), apply the reset
and restart; crossing models record non-terminal upward-crossing events. Output: the same
`scjax.Trajectory` schema as `scjax.simulate`, plus the exact spike times.
"""

from __future__ import annotations

import math

import numpy as np

from .. import models as _m
from .._trajectory import Trajectory
from .._validation import save_grid

#: Tight defaults: the golden traces and cross-validation use these.
RTOL: float = 1e-10
ATOL: float = 1e-12
METHODS: tuple[str, ...] = ("DOP853", "Radau")


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


def vector_field(model):
    """A NumPy `f(t, y, current) -> dy/dt` for a scjax model (raises for unknown models)."""
    P = {n: _p(model, n) for n in model.param_names}  # noqa: N806
    if isinstance(model, _m.LIF):
        return lambda t, y, i: np.array([(-(y[0] - P["v_rest"]) + P["r_m"] * i) / P["tau_m"]])
    if isinstance(model, _m.Izhikevich):
        a, b = P["a"], P["b"]
        return lambda t, y, i: np.array([0.04 * y[0] ** 2 + 5 * y[0] + 140 - y[1] + i,
                                         a * (b * y[0] - y[1])])
    if isinstance(model, _m.AdEx):
        def f(t, y, i):
            v = min(y[0], P["v_peak"])
            arg = min((v - P["v_t"]) / P["delta_t"], 30.0)
            dv = (-P["g_l"] * (v - P["e_l"]) + P["g_l"] * P["delta_t"] * math.exp(arg) - y[1] + i)
            return np.array([dv / P["c"], (P["a"] * (v - P["e_l"]) - y[1]) / P["tau_w"]])
        return f
    if isinstance(model, _m.HodgkinHuxley):
        def f(t, y, i):
            v, m, h, n = y
            am = 1.0 / _exprel(-(v + 40.0) / 10.0)
            bm = 4.0 * math.exp(-(v + 65.0) / 18.0)
            ah = 0.07 * math.exp(-(v + 65.0) / 20.0)
            bh = 1.0 / (1.0 + math.exp(-(v + 35.0) / 10.0))
            an = 0.1 / _exprel(-(v + 55.0) / 10.0)
            bn = 0.125 * math.exp(-(v + 65.0) / 80.0)
            i_ion = (P["g_na"] * m**3 * h * (v - P["e_na"]) + P["g_k"] * n**4 * (v - P["e_k"])
                     + P["g_l"] * (v - P["e_l"]))
            return np.array([(i - i_ion) / P["c_m"], am * (1 - m) - bm * m,
                             ah * (1 - h) - bh * h, an * (1 - n) - bn * n])
        return f
    if isinstance(model, _m.FitzHughNagumo):
        return lambda t, y, i: np.array([y[0] - y[0] ** 3 / 3 - y[1] + i,
                                         (y[0] + P["a"] - P["b"] * y[1]) / P["tau_w"]])
    if isinstance(model, _m.MorrisLecar):
        def f(t, y, i):
            v, w = y
            m_inf = 0.5 * (1 + math.tanh((v - P["v1"]) / P["v2"]))
            w_inf = 0.5 * (1 + math.tanh((v - P["v3"]) / P["v4"]))
            i_ion = (P["g_l"] * (v - P["v_l"]) + P["g_ca"] * m_inf * (v - P["v_ca"])
                     + P["g_k"] * w * (v - P["v_k"]))
            return np.array([(i - i_ion) / P["c"],
                             P["phi"] * (w_inf - w) * math.cosh((v - P["v3"]) / (2 * P["v4"]))])
        return f
    if isinstance(model, _m.SCEquilibrium):
        return lambda t, y, i: np.array([(P["p"] + i - y[0]) / (P["n_bits"] * P["tau_clk"])])
    if isinstance(model, _m.GammaOscillation):
        def f(t, y, i):
            e, q = y
            return np.array([
                (-e + _sigmoid(P["w_ee"] * e - P["w_ei"] * q + P["p_e"] + i)) / P["tau_e"],
                (-q + _sigmoid(P["w_ie"] * e - P["w_ii"] * q + P["p_i"])) / P["tau_i"]])
        return f
    if isinstance(model, _m.BiolekMemristor):
        k = P["mu_v"] * P["r_on"] / P["d"] ** 2 * 1e-3
        def f(t, y, i):
            x = y[0]
            v = P["v_amp"] * math.sin(2 * math.pi * P["freq"] * t * 1e-3) + i
            cur = v / (P["r_on"] * x + P["r_off"] * (1 - x))
            stp = 1.0 if cur <= 0 else 0.0
            return np.array([k * cur * (1 - ((x - stp) ** 2) ** P["p"])])
        return f
    if isinstance(model, _m.Kuramoto):
        omega = P["omega_mean"] + P["omega_std"] * np.asarray(model.z_omega, float)
        K = P["coupling"]  # noqa: N806
        def f(t, y, i):
            # The direct O(N²) double sum (the JAX model uses the mean-field identity).
            return omega + K * np.mean(np.sin(y[None, :] - y[:, None]), axis=1) + i
        return f
    if isinstance(model, _m.PredictiveCoding):
        u1, u2 = np.asarray(model.u1, float), np.asarray(model.u2, float)
        s, n1 = np.asarray(model.stimulus, float), model.n1
        def f(t, y, i):
            r1, r2 = y[:n1], y[n1:]
            p1, p2 = _sigmoid(u1 @ r1), _sigmoid(u2 @ r2)
            e0, e1 = s + i - p1, r1 - p2
            dr1 = (u1.T @ (p1 * (1 - p1) * e0) / P["sigma0_sq"] - e1 / P["sigma1_sq"]
                   - P["alpha"] * r1)
            dr2 = u2.T @ (p2 * (1 - p2) * e1) / P["sigma1_sq"] - P["alpha"] * r2
            return np.concatenate([dr1, dr2]) / P["tau"]
        return f
    if isinstance(model, _m.Homeostasis):
        def f(t, y, i):
            r, z = y
            e = r - P["r_target"]
            theta = P["theta0"] + P["k_p"] * e + P["k_i"] * z
            return np.array([(-r + P["r_max"] * _sigmoid((i - theta) / P["slope"])) / P["tau_r"],
                             e])
        return f
    if isinstance(model, _m.Lindblad):
        sz = np.diag([1.0, -1.0]).astype(complex)
        sx = np.array([[0, 1], [1, 0]], complex)
        def f(t, y, i):
            rho = (y[:4] + 1j * y[4:]).reshape(2, 2)
            h = 0.5 * P["delta"] * sz + 0.5 * (P["omega"] + i) * sx
            d = -1j * (h @ rho - rho @ h) + P["gamma"] * (sz @ rho @ sz - rho)
            return np.concatenate([d.real.ravel(), d.imag.ravel()])
        return f
    if isinstance(model, _m.STDPCurve):
        lags = np.asarray(model.lags, float)
        w = np.where(lags > 0, P["a_plus"] * np.exp(-lags / P["tau_plus"]),
                     -P["a_minus"] * np.exp(lags / P["tau_minus"]))
        pot, dep = np.maximum(w, 0), np.maximum(-w, 0)
        return lambda t, y, i: P["rate"] * (1 + i) * (pot * (P["w_max"] - y) - dep * y)
    raise ValueError(f"model {type(model).__name__} has no NumPy transcription in the scipy backend")


def _reset(model):
    P = {n: _p(model, n) for n in model.param_names}  # noqa: N806
    if isinstance(model, _m.LIF):
        return lambda y: np.array([P["v_reset"]])
    if isinstance(model, _m.Izhikevich):
        return lambda y: np.array([P["c"], y[1] + P["d"]])
    if isinstance(model, _m.AdEx):
        return lambda y: np.array([P["v_reset"], y[1] + P["b"]])
    raise ValueError(f"model {type(model).__name__}: no reset map in the scipy backend")


def solve(model, t_span, current=0.0, *, method: str = "DOP853", rtol: float = RTOL,
          atol: float = ATOL, saveat: float = 0.1, current_dt: float | None = None, y0=None,
          max_spikes: int = 100_000):
    """The SciPy counterpart of `scjax.reference.solve`: returns (Trajectory, spike_times).

    `current` is a constant or a piecewise-constant trace (sample k over
    [t0 + k·current_dt, t0 + (k+1)·current_dt)); integration is restarted at every sample
    boundary where the trace changes, so no step straddles a jump.
    """
    from scipy.integrate import solve_ivp

    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    t0, t1, grid = save_grid(t_span, saveat)
    n = grid.size - 1
    trace = np.atleast_1d(np.asarray(current, float))
    if trace.ndim != 1 or not np.all(np.isfinite(trace)):
        raise ValueError("current must be a finite scalar or 1-D trace")
    cdt = saveat if current_dt is None else float(current_dt)
    # Breakpoints: where the trace changes value (integration restarts there).
    change = np.nonzero(trace[1:] != trace[:-1])[0] + 1
    breaks = [t for t in (t0 + cdt * change) if t0 < t < t1] + [t1]
    f = vector_field(model)
    idx = model.spike_index
    thr = float(np.asarray(model.spike_threshold()))
    resetting = isinstance(model, _m.AbstractResettingModel)
    crossing = isinstance(model, _m.AbstractCrossingModel)
    reset = _reset(model) if resetting else None
    y = np.asarray(model.initial_state() if y0 is None else y0, float).copy()
    ys = np.full((n + 1, y.size), np.nan)
    ys[0] = y
    spikes: list[float] = []

    def cur_at(t):
        k = min(max(int(math.floor((t - t0) / cdt + 1e-12)), 0), trace.size - 1)
        return trace[k]

    def event(t, y, i):
        return y[idx] - thr

    event.direction = 1.0
    event.terminal = resetting
    t = t0
    for t_break in breaks:
        i_now = cur_at(0.5 * (t + t_break))
        while t < t_break:
            sol = solve_ivp(f, (t, t_break), y, method=method, rtol=rtol, atol=atol,
                            dense_output=True, args=(i_now,),
                            events=event if (resetting or crossing) else None)
            t_seg, y_end, spiked = float(sol.t[-1]), sol.y[:, -1], False
            if sol.status == -1:
                t_seg, y_end = _stalled_upstroke(sol, f, i_now, idx, thr, resetting)
                spiked = True
            elif resetting and sol.status == 1:
                t_seg, y_end, spiked = float(sol.t_events[0][0]), sol.y_events[0][0], True
            sel = (grid >= t) & (grid <= t_seg)
            if sel.any():
                ys[sel] = sol.sol(np.minimum(grid[sel], float(sol.t[-1]))).T
            if crossing:
                spikes.extend(float(s) for s in sol.t_events[0])
            if spiked:
                spikes.append(t_seg)
                y = reset(y_end)
                k = int(np.searchsorted(grid, t_seg, side="left"))
                if k <= n and grid[k] == t_seg:
                    ys[k] = y
                if len(spikes) >= max_spikes:
                    raise RuntimeError(f"max_spikes = {max_spikes} reached")
            else:
                y = y_end
            t = t_seg
    spike_times = np.asarray(spikes)
    counts = np.zeros(n, int)
    bins = np.searchsorted(grid, spike_times, side="left") - 1
    np.add.at(counts, bins[(bins >= 0) & (bins < n)], 1)
    traj = Trajectory(t=grid, y=ys, spikes=counts > 0, spike_signal=(counts > 0).astype(float),
                      state_names=tuple(model.state_names), diverged=np.bool_(~np.all(np.isfinite(ys))))
    return traj, spike_times


def _stalled_upstroke(sol, f, i_now, idx, thr, resetting):
    """solve_ivp stops ("step size less than spacing between numbers") on AdEx's upstroke,
    where dv/dt reaches ~1e12 mV/ms (the clipped exponential). There the remaining time to the
    threshold, (v_th − v)/(dv/dt), is far below 1e-9 ms: count the spike at t + that time
    (the same tolerance as `scjax.reference.DTMIN`). Anything else is a genuine failure."""
    t_last, y_last = float(sol.t[-1]), sol.y[:, -1]
    rate = f(t_last, y_last, i_now)[idx]
    remaining = (thr - y_last[idx]) / rate if rate > 0 else np.inf
    if not (resetting and 0 <= remaining < 1e-9):
        raise RuntimeError(f"scipy solve_ivp failed at t = {t_last}: {sol.message}")
    y_spk = y_last.copy()
    y_spk[idx] = thr
    return t_last + remaining, y_spk


def simulate(model, current, dt, *, t0: float = 0.0, y0=None, method: str = "DOP853",
             rtol: float = RTOL, atol: float = ATOL, **kwargs) -> Trajectory:
    """`scjax.simulate`'s interface: `current[n]` holds over [t0 + n·dt, t0 + (n+1)·dt) and the
    trajectory is sampled every `dt` (`t [T+1]`, `y [T+1, n_state]`, `spikes [T]`)."""
    del kwargs  # accepted for interface compatibility (key, solver, surrogate: not used here)
    current = np.asarray(current, float)
    if current.ndim != 1 or current.size == 0:
        raise ValueError(f"current must be a non-empty 1-D array, got shape {current.shape}")
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be positive and finite, got {dt}")
    traj, _ = solve(model, (t0, t0 + current.size * dt), current, method=method, rtol=rtol,
                    atol=atol, saveat=dt, current_dt=dt, y0=y0)
    return traj
