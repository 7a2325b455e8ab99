"""scjax.analysis.spikes against hand-computed values, closed forms, literal NumPy
transcriptions of Kreuz's definitions integrated by SciPy quadrature, and values computed by
PySpike itself (tests/peers/pyspike/reference.json)."""

import json
import pathlib
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

import scjax
from scjax.analysis import spikes as sp


def pad(times, n=None):
    times = list(times)
    n = len(times) + 2 if n is None else n
    return jnp.asarray(times + [99.0] * (n - len(times))), len(times)  # junk padding on purpose


# ---------------------------------------------------------------------------------------------
# Single-train statistics
# ---------------------------------------------------------------------------------------------


def test_hand_computed_isi_rate_cv_fano():
    t, n = pad([1.0, 3.0, 6.0])
    intervals, n_isi = sp.isi(t, n)
    np.testing.assert_array_equal(np.asarray(intervals)[:2], [2.0, 3.0])
    assert np.all(np.isnan(np.asarray(intervals)[2:])) and int(n_isi) == 2
    assert float(sp.cv_isi(t, n)) == pytest.approx(0.5 / 2.5, abs=1e-15)
    assert float(sp.mean_rate(t, n, 0.0, 5.0)) == pytest.approx(2 / 5, abs=1e-15)
    # windows [0,1) [1,2) [2,3) [3,4): counts 1, 2, 0, 1 → mean 1, variance 0.5
    t, n = pad([0.5, 1.5, 1.7, 3.2])
    assert float(sp.fano_factor(t, n, 1.0, 0.0, 4.0)) == pytest.approx(0.5, abs=1e-15)
    # too few intervals → NaN rather than a number
    t, n = pad([1.0, 2.0])
    assert np.isnan(float(sp.cv_isi(t, n)))


def test_poisson_and_regular_trains():
    rng = np.random.default_rng(0)
    poisson = np.cumsum(rng.exponential(1.0, 20000))  # rate 1 per unit time
    cv = float(sp.cv_isi(poisson, len(poisson)))
    assert cv == pytest.approx(1.0, abs=0.05)
    fano = float(sp.fano_factor(poisson, len(poisson), 10.0, 0.0, float(poisson[-1])))
    assert fano == pytest.approx(1.0, abs=0.1)
    regular = (np.arange(500) + 0.5) * 2.5  # 4 per window of 10, never on an edge
    assert float(sp.cv_isi(regular, 500)) == pytest.approx(0.0, abs=1e-12)
    # a regular train puts the same count in every window: Fano factor 0
    assert float(sp.fano_factor(regular, 500, 10.0, 0.0, 1250.0)) == pytest.approx(0, abs=1e-12)


def test_spike_times_from_raster_and_trajectory():
    raster = jnp.zeros((2, 10), bool).at[0, 3].set(True).at[1, jnp.array([1, 5])].set(True)
    times, counts = sp.spike_times(raster, 0.1, max_spikes=4)
    np.testing.assert_array_equal(np.asarray(counts), [1, 2])
    np.testing.assert_allclose(np.asarray(times)[0, :1], [0.4])
    np.testing.assert_allclose(np.asarray(times)[1, :2], [0.2, 0.6])
    assert np.all(np.isinf(np.asarray(times)[0, 1:]))
    tr = scjax.simulate(scjax.Izhikevich.preset("RS"), jnp.full(2000, 10.0), dt=0.1)
    times, counts = sp.spike_times(tr.spikes, 0.1, max_spikes=32)
    np.testing.assert_allclose(np.asarray(times)[: int(counts)], tr.spike_times(), atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Synchrony
# ---------------------------------------------------------------------------------------------


def test_golomb_synchrony():
    x = np.sin(np.linspace(0, 20, 400))
    assert float(sp.synchrony(np.stack([x, x, x]))) == pytest.approx(1.0, abs=1e-12)
    assert float(sp.synchrony(np.stack([x, -x]))) == pytest.approx(0.0, abs=1e-7)
    # hand: signals (1, 0) and (0, 0): Var[mean] = 1/16, mean Var = 1/8 → χ = √(1/2)
    assert float(sp.synchrony(np.array([[1.0, 0.0], [0.0, 0.0]]))) == pytest.approx(
        np.sqrt(0.5), abs=1e-15
    )
    noise = np.random.default_rng(1).normal(size=(100, 4000))
    assert float(sp.synchrony(noise)) == pytest.approx(0.1, abs=0.03)  # ≈ 1/√N


# ---------------------------------------------------------------------------------------------
# van Rossum
# ---------------------------------------------------------------------------------------------


def test_van_rossum_closed_forms():
    a, na = pad([1.0, 3.0, 6.0])
    assert float(sp.van_rossum_distance(a, na, a, na, 2.0)) == 0.0
    b, nb = pad([1.0, 3.0, 6.0, 8.5])
    assert float(sp.van_rossum_distance(a, na, b, nb, 2.0)) == pytest.approx(
        np.sqrt(0.5), abs=1e-14
    )
    # one spike each, Δ apart: D² = 1 − exp(−Δ/τ)
    for delta, tau in [(0.3, 1.0), (2.0, 5.0)]:
        d = float(sp.van_rossum_distance(jnp.array([4.0]), 1, jnp.array([4.0 + delta]), 1, tau))
        assert d == pytest.approx(np.sqrt(1 - np.exp(-delta / tau)), abs=1e-14)


def test_van_rossum_equals_the_integral_of_filtered_trains():
    tau = 3.0
    a, na = pad([2.0, 5.0, 5.5, 11.0])
    b, nb = pad([1.0, 6.0, 12.5])
    t = np.linspace(0.0, 80.0, 400001)
    fa = np.asarray(sp.exponential_traces(a, na, t, tau))
    fb = np.asarray(sp.exponential_traces(b, nb, t, tau))
    d2_numeric = np.trapezoid((fa - fb) ** 2, t) / tau
    d = float(sp.van_rossum_distance(a, na, b, nb, tau))
    assert d**2 == pytest.approx(d2_numeric, rel=1e-4)


def test_van_rossum_gradient_matches_finite_differences():
    b, nb = pad([1.0, 6.0, 12.5])
    x0 = np.array([2.0, 5.0, 11.0])

    def dist(x):
        return sp.van_rossum_distance(x, 3, b, nb, 3.0)

    grad = np.asarray(jax.grad(dist)(jnp.asarray(x0)))
    h = 1e-6
    fd = [(float(dist(x0 + h * e)) - float(dist(x0 - h * e))) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)
    # identical trains: D = 0 is a minimum, the guarded gradient is 0, not NaN
    g0 = np.asarray(jax.grad(lambda x: sp.van_rossum_distance(x, 3, x0, 3, 3.0))(x0))
    assert np.all(np.isfinite(g0))


def test_batched_distances_equal_single_calls():
    trains = [[1.0, 4.0], [2.0, 3.0, 7.0], [5.0]]
    times = jnp.stack([pad(t, 4)[0] for t in trains])
    counts = jnp.array([len(t) for t in trains])
    ref, nref = pad([1.5, 4.5, 6.0], 4)
    batched = [
        np.asarray(f(times, counts, ref, nref, *extra))
        for f, extra in [
            (sp.van_rossum_distance, (2.0,)),
            (sp.isi_distance, (0.0, 10.0)),
            (sp.spike_distance, (0.0, 10.0)),
        ]
    ]
    for k, tr in enumerate(trains):
        t, n = pad(tr, 4)
        assert batched[0][k] == pytest.approx(float(sp.van_rossum_distance(t, n, ref, nref, 2.0)))
        assert batched[1][k] == pytest.approx(float(sp.isi_distance(t, n, ref, nref, 0.0, 10.0)))
        assert batched[2][k] == pytest.approx(float(sp.spike_distance(t, n, ref, nref, 0.0, 10.0)))


# ---------------------------------------------------------------------------------------------
# ISI- and SPIKE-distance: literal transcriptions of Kreuz et al. (2007, 2013)
# ---------------------------------------------------------------------------------------------


def _aug(train, t_start, t_stop):
    return [t_start] + list(train) + [t_stop]


def _prev_next(train, t):
    prev = max(s for s in train if s <= t)
    nxt = min(s for s in train if s > t)
    return prev, nxt


def literal_isi_distance(t1, t2, t_start, t_stop):
    a, b = _aug(t1, t_start, t_stop), _aug(t2, t_start, t_stop)

    def integrand(t):
        p1, f1 = _prev_next(a, t)
        p2, f2 = _prev_next(b, t)
        x, y = f1 - p1, f2 - p2
        ratio = x / y - 1 if x <= y else -(y / x - 1)  # Kreuz 2007, Eq. 2
        return abs(ratio)

    val, _ = quad(
        integrand,
        t_start,
        t_stop,
        points=sorted(set(a + b))[1:-1],
        limit=500,
        epsabs=1e-13,
        epsrel=1e-12,
    )
    return val / (t_stop - t_start)


def literal_spike_distance(t1, t2, t_start, t_stop):
    a, b = _aug(t1, t_start, t_stop), _aug(t2, t_start, t_stop)

    def s_local(own, other, t):
        tp, tf = _prev_next(own, t)
        dtp = min(abs(tp - s) for s in other)
        dtf = min(abs(tf - s) for s in other)
        return (dtp * (tf - t) + dtf * (t - tp)) / (tf - tp), tf - tp

    def integrand(t):
        s1, x1 = s_local(a, b, t)
        s2, x2 = s_local(b, a, t)
        return (s1 * x2 + s2 * x1) / (2 * ((x1 + x2) / 2) ** 2)  # Kreuz 2013, Eq. 8

    val, _ = quad(
        integrand,
        t_start,
        t_stop,
        points=sorted(set(a + b))[1:-1],
        limit=500,
        epsabs=1e-13,
        epsrel=1e-12,
    )
    return val / (t_stop - t_start)


def test_isi_and_spike_distance_hand_values():
    # one spike at 5 vs none on [0, 10]: ISIs 5 vs 10 everywhere → D_I = 1/2;
    # S(t) = 20 t / 225 on (0, 5), symmetric on (5, 10) → D_S = 2/9.
    t, n = pad([5.0])
    e, ne = pad([])
    assert float(sp.isi_distance(t, n, e, ne, 0.0, 10.0)) == pytest.approx(0.5, abs=1e-15)
    assert float(sp.spike_distance(t, n, e, ne, 0.0, 10.0)) == pytest.approx(2 / 9, abs=1e-15)
    t, n = pad([1.0, 2.5, 7.0])
    assert float(sp.isi_distance(t, n, t, n, 0.0, 10.0)) == 0.0
    assert float(sp.spike_distance(t, n, t, n, 0.0, 10.0)) == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_isi_and_spike_distance_match_literal_transcription(seed):
    rng = np.random.default_rng(seed)
    t_start, t_stop = 0.0, 100.0
    t1 = np.sort(rng.uniform(t_start, t_stop, rng.integers(3, 12)))
    t2 = np.sort(rng.uniform(t_start, t_stop, rng.integers(3, 12)))
    a, na = pad(t1, 16)
    b, nb = pad(t2, 16)
    d_isi = float(sp.isi_distance(a, na, b, nb, t_start, t_stop))
    d_spike = float(sp.spike_distance(a, na, b, nb, t_start, t_stop))
    assert d_isi == pytest.approx(literal_isi_distance(t1, t2, t_start, t_stop), abs=1e-9)
    assert d_spike == pytest.approx(literal_spike_distance(t1, t2, t_start, t_stop), abs=1e-9)
    assert 0 < d_isi < 1 and 0 < d_spike < 1


def test_distances_under_jit():
    a, na = pad([1.0, 4.0, 8.0])
    b, nb = pad([2.0, 4.5])
    f = jax.jit(sp.spike_distance)
    assert float(f(a, na, b, nb, 0.0, 10.0)) == pytest.approx(
        literal_spike_distance([1.0, 4.0, 8.0], [2.0, 4.5], 0.0, 10.0), abs=1e-9
    )


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


def test_bad_input_raises_value_error():
    good, n = pad([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="sorted"):
        sp.cv_isi(jnp.array([1.0, 3.0, 2.0]), 3)
    with pytest.raises(ValueError, match="times2 must be sorted"):
        sp.van_rossum_distance(good, n, jnp.array([5.0, 1.0]), 2, 1.0)
    with pytest.raises(ValueError, match="tau"):
        sp.van_rossum_distance(good, n, good, n, -1.0)
    with pytest.raises(ValueError, match="tau"):
        sp.exponential_traces(good, n, jnp.linspace(0, 5, 6), 0.0)
    with pytest.raises(ValueError, match="counts"):
        sp.isi(good, 7)
    with pytest.raises(ValueError, match="t_stop"):
        sp.isi_distance(good, n, good, n, 5.0, 5.0)
    with pytest.raises(ValueError, match="window"):
        sp.fano_factor(good, n, -1.0, 0.0, 4.0)
    with pytest.raises(ValueError, match="signals"):
        sp.synchrony(jnp.ones(5))
    with pytest.raises(ValueError, match="edge_correction"):
        sp.spike_distance(good, n, good, n, 0.0, 5.0, edge_correction="pyspike")
    # unsorted *padding* is fine: only the first `counts` entries are spikes
    assert float(sp.cv_isi(jnp.array([1.0, 2.0, 4.0, 0.0, -7.0]), 3)) == pytest.approx(1 / 3)


# ---------------------------------------------------------------------------------------------
# PySpike's edge correction, against values PySpike itself computed
# (tests/peers/pyspike/make_reference.py; CI does not install PySpike)
# ---------------------------------------------------------------------------------------------

PYSPIKE = json.loads(
    (pathlib.Path(__file__).parent / "peers" / "pyspike" / "reference.json").read_text()
)


_PYSPIKE_PAD = 1 + max(len(c[k]) for c in PYSPIKE["cases"] for k in ("t1", "t2"))


def _padded_cases(cases, n):
    t1 = np.stack([np.r_[c["t1"], np.full(n - len(c["t1"]), np.inf)] for c in cases])
    t2 = np.stack([np.r_[c["t2"], np.full(n - len(c["t2"]), np.inf)] for c in cases])
    n1 = np.array([len(c["t1"]) for c in cases])
    n2 = np.array([len(c["t2"]) for c in cases])
    return t1, n1, t2, n2


@pytest.mark.parametrize("case", PYSPIKE["cases"], ids=lambda c: c["name"])
def test_isi_and_spike_distance_match_pyspike(case):
    # +inf padding as `spike_times` makes it, to one length for all cases (one compilation)
    a, n1, b, n2 = (x[0] for x in _padded_cases([case], _PYSPIKE_PAD))
    args = (a, n1, b, n2, case["t_start"], case["t_stop"])
    # default: Kreuz (2013) auxiliary spikes = PySpike given the edges as spikes
    assert float(sp.isi_distance(*args)) == pytest.approx(case["isi_aux"], abs=1e-12)
    assert float(sp.spike_distance(*args)) == pytest.approx(case["spike_aux"], abs=1e-12)
    # edge_correction=True: PySpike's default
    assert float(sp.isi_distance(*args, edge_correction=True)) == pytest.approx(
        case["isi"], abs=1e-12
    )
    assert float(sp.spike_distance(*args, edge_correction=True)) == pytest.approx(
        case["spike"], abs=1e-12
    )


def test_edge_correction_issue_example_and_batch():
    # Issue 14: [300] vs [700] on [0, 1000] gave 0.272 in scjax and 0.531 in PySpike.
    a, b = jnp.array([300.0]), jnp.array([700.0])
    assert float(sp.spike_distance(a, 1, b, 1, 0.0, 1000.0)) == pytest.approx(0.272, abs=5e-4)
    assert float(sp.spike_distance(a, 1, b, 1, 0.0, 1000.0, edge_correction=True)) == pytest.approx(
        0.531, abs=5e-4
    )
    # every same-window case in one batched, jitted call equals PySpike too
    cases = [c for c in PYSPIKE["cases"] if (c["t_start"], c["t_stop"]) == (0.0, 10.0)]
    assert len(cases) >= 8
    t1, n1, t2, n2 = _padded_cases(cases, 8)
    f = jax.jit(sp.spike_distance, static_argnames="edge_correction")
    got = np.asarray(f(t1, n1, t2, n2, 0.0, 10.0, edge_correction=True))
    np.testing.assert_allclose(got, [c["spike"] for c in cases], rtol=0, atol=1e-12)
    got = np.asarray(sp.isi_distance(t1, n1, t2, n2, 0.0, 10.0, edge_correction=True))
    np.testing.assert_allclose(got, [c["isi"] for c in cases], rtol=0, atol=1e-12)


def test_edge_corrected_spike_distance_gradient_matches_finite_differences():
    b, nb = pad([1.0, 6.0, 12.5])
    x0 = np.array([2.0, 5.0, 11.0])

    def dist(x):
        return sp.spike_distance(x, 3, b, nb, 0.0, 15.0, edge_correction=True)

    grad = np.asarray(jax.grad(dist)(jnp.asarray(x0)))
    h = 1e-6
    fd = [(float(dist(x0 + h * e)) - float(dist(x0 - h * e))) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)
    assert np.any(np.abs(grad) > 1e-3)


# ---------------------------------------------------------------------------------------------
# Interop: no warnings from scjax's own +inf padding; neo.SpikeTrain out
# ---------------------------------------------------------------------------------------------


def test_inf_padding_from_spike_times_raises_no_warning():
    raster = jnp.zeros((2, 50), bool).at[0, 3].set(True).at[1, jnp.array([1, 5, 30])].set(True)
    t, c = sp.spike_times(raster, 0.1, max_spikes=_PYSPIKE_PAD)  # the PySpike tests' shapes
    assert np.all(np.isinf(np.asarray(t)[0, 1:]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        intervals, _ = sp.isi(t, c)
        np.testing.assert_allclose(np.asarray(intervals)[1, :2], [0.4, 2.5], atol=1e-12)
        assert float(sp.cv_isi(t[1], c[1])) == pytest.approx(np.std([0.4, 2.5]) / 1.45)
        assert float(sp.mean_rate(t[1], c[1], 0.0, 5.0)) == pytest.approx(3 / 5)
        assert np.isfinite(float(sp.fano_factor(t[1], c[1], 1.0, 0.0, 5.0)))
        assert np.all(
            np.isfinite(np.asarray(sp.exponential_traces(t, c, jnp.linspace(0, 5, 11), 1.0)))
        )
        for f, extra in [
            (sp.van_rossum_distance, (1.0,)),
            (sp.isi_distance, (0.0, 5.0)),
            (sp.spike_distance, (0.0, 5.0)),
        ]:
            assert np.isfinite(float(f(t[0], c[0], t[1], c[1], *extra)))
        for f in (sp.isi_distance, sp.spike_distance):
            assert np.isfinite(float(f(t[0], c[0], t[1], c[1], 0.0, 5.0, edge_correction=True)))


def test_to_neo():
    neo = pytest.importorskip("neo", reason="neo not installed")
    raster = jnp.zeros((2, 50), bool).at[1, jnp.array([1, 5, 30])].set(True)
    t, c = sp.spike_times(raster, 0.1)
    train = sp.to_neo(t[1], 5.0, counts=c[1])
    assert isinstance(train, neo.SpikeTrain)
    np.testing.assert_allclose(train.magnitude, [0.2, 0.6, 3.1], atol=1e-12)
    assert str(train.units.dimensionality) == "ms"
    assert float(train.t_stop.rescale("ms").magnitude) == 5.0
    assert float(train.t_start.magnitude) == 0.0
    # units are carried: 1.5 s is 1500 ms
    in_s = sp.to_neo(np.array([0.5, 1.5]), 2.0, units="s")
    np.testing.assert_allclose(in_s.rescale("ms").magnitude, [500.0, 1500.0])
    # a Trajectory's spike times go straight in
    tr = scjax.simulate(scjax.Izhikevich.preset("RS"), jnp.full(2000, 10.0), dt=0.1)
    train = sp.to_neo(tr.spike_times(), 200.0)
    np.testing.assert_allclose(train.magnitude, tr.spike_times(), atol=0)
    with pytest.raises(ValueError, match="spike_times"):
        sp.to_neo(np.array([1.0, 7.0]), 5.0)
    with pytest.raises(ValueError, match="units"):
        sp.to_neo(np.array([1.0]), 5.0, units="mV")
    with pytest.raises(ValueError, match="t_stop"):
        sp.to_neo(np.array([1.0]), 0.0, t_start=1.0)


def test_subnormal_window_is_refused_not_nan():
    # Found by tests/fuzz: a 5e-324 ms window made the ISI distance a silent NaN.
    with pytest.raises(ValueError, match="too short"):
        sp.isi_distance(np.array([0.0]), 0, np.array([0.0]), 0, t_start=0.0, t_stop=5e-324)
