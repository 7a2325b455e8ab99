"""Shared test helpers: the solvers under test, NumPy transcriptions, slope fits."""

import numpy as np

import scjax

#: (integrator name, solver class, expected order of global convergence)
SOLVERS = [
    ("euler", scjax.solvers.Euler, 1),
    ("half_euler", scjax.solvers.HalfEuler, 1),
    ("rk4", scjax.solvers.RK4, 4),
    ("rosenbrock", scjax.solvers.RosenbrockEuler, 1),
    ("rosenbrock2", scjax.solvers.Rosenbrock2, 2),
]


def loglog_slope(dts, errors) -> float:
    """Least-squares slope of log(error) against log(dt): the empirical order."""
    return float(np.polyfit(np.log(np.asarray(dts)), np.log(np.asarray(errors)), 1)[0])


def izhikevich_matlab(a, b, c, d, current, dt, v0=-65.0):
    """Izhikevich (2003)'s published MATLAB loop, one neuron, in plain NumPy.

    Written from the paper's code, not from scjax: per step
        v = v + 0.5*dt*(0.04 v² + 5 v + 140 − u + I);  (twice)
        u = u + dt*a*(b v − u);   if v ≥ 30: v = c, u = u + d.
    (The paper tests v ≥ 30 at the top of the next iteration; recording after the reset gives
    the same sequence of states.) Returns states [T+1, 2] and spikes [T].
    """
    v, u = v0, b * v0
    ys, spikes = [(v, u)], []
    for i_n in current:
        u_old = u
        v = v + 0.5 * dt * (0.04 * v * v + 5.0 * v + 140.0 - u_old + i_n)
        v = v + 0.5 * dt * (0.04 * v * v + 5.0 * v + 140.0 - u_old + i_n)
        u = u_old + dt * (a * (b * v - u_old))
        fired = v >= 30.0
        if fired:
            v, u = c, u + d
        ys.append((v, u))
        spikes.append(fired)
    return np.array(ys), np.array(spikes)


def hodgkin_huxley_euler(
    current, dt, c_m=1.0, g_na=120.0, g_k=36.0, g_l=0.3, e_na=50.0, e_k=-77.0, e_l=-54.387
):
    """Forward-Euler Hodgkin–Huxley (1952, rest −65 mV) in NumPy, textbook rate functions.

    The rates are written in their textbook form; at the removable singularities (V = −40 or
    −55 exactly) the limit values 1.0 and 0.1 are used.
    """

    def am(v):
        x = v + 40.0
        return 1.0 if x == 0 else 0.1 * x / (1.0 - np.exp(-x / 10.0))

    def an(v):
        x = v + 55.0
        return 0.1 if x == 0 else 0.01 * x / (1.0 - np.exp(-x / 10.0))

    bm = lambda v: 4.0 * np.exp(-(v + 65.0) / 18.0)  # noqa: E731
    ah = lambda v: 0.07 * np.exp(-(v + 65.0) / 20.0)  # noqa: E731
    bh = lambda v: 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0))  # noqa: E731
    bn = lambda v: 0.125 * np.exp(-(v + 65.0) / 80.0)  # noqa: E731
    v = -65.0
    m, h, n = am(v) / (am(v) + bm(v)), ah(v) / (ah(v) + bh(v)), an(v) / (an(v) + bn(v))
    ys, spikes = [(v, m, h, n)], []
    for i_n in current:
        i_ion = g_na * m**3 * h * (v - e_na) + g_k * n**4 * (v - e_k) + g_l * (v - e_l)
        v_new = v + dt * (i_n - i_ion) / c_m
        m = m + dt * (am(v) * (1 - m) - bm(v) * m)
        h = h + dt * (ah(v) * (1 - h) - bh(v) * h)
        n = n + dt * (an(v) * (1 - n) - bn(v) * n)
        spikes.append(v < 0.0 <= v_new)
        v = v_new
        ys.append((v, m, h, n))
    return np.array(ys), np.array(spikes)


def adex_euler(
    current,
    dt,
    c=281.0,
    g_l=30.0,
    e_l=-70.6,
    v_t=-50.4,
    delta_t=2.0,
    tau_w=144.0,
    a=4.0,
    b=80.5,
    v_reset=-70.6,
    v_peak=20.0,
):
    """Forward-Euler AdEx (Brette & Gerstner 2005) in NumPy, reset after the step."""
    v, w = e_l, 0.0
    ys, spikes = [(v, w)], []
    for i_n in current:
        dv = (-g_l * (v - e_l) + g_l * delta_t * np.exp((v - v_t) / delta_t) - w + i_n) / c
        dw = (a * (v - e_l) - w) / tau_w
        v, w = v + dt * dv, w + dt * dw
        fired = v >= v_peak
        if fired:
            v, w = v_reset, w + b
        ys.append((v, w))
        spikes.append(fired)
    return np.array(ys), np.array(spikes)


def make_current(n, amplitude, seed=0):
    """A deterministic step + ramp + noise current of length n around `amplitude`."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / n
    return amplitude * (0.6 + 0.6 * (t > 0.2) + 0.3 * t) + 0.1 * amplitude * rng.standard_normal(n)


def assert_trajectories_identical(expected, actual):
    """Every recorded field of two `Trajectory`s equal bit for bit (shape and dtype too)."""
    fields = ("t", "y", "spike_count", "diverged", "spikes", "spike_signal")
    fields += ("spike_time_buffer", "spike_overflow")
    for field in fields:
        a, b = getattr(expected, field), getattr(actual, field)
        assert (a is None) == (b is None), field
        if a is not None:
            a, b = np.asarray(a), np.asarray(b)
            assert a.shape == b.shape and a.dtype == b.dtype, (field, a.shape, b.shape)
            np.testing.assert_array_equal(b, a, err_msg=field)
    assert expected.state_names == actual.state_names


def assert_counts_spread(counts):
    """The counts must vary across neurons, or equality would prove little."""
    counts = np.asarray(counts)
    assert counts.max() > 0 and len(set(counts.tolist())) >= 3, counts
