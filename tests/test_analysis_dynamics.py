"""scjax.analysis.dynamics against closed forms and independent SciPy/NumPy computations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax.analysis import dynamics as dyn
from scjax.backends import scipy as scipy_backend

FHN_BOUNDS = [(-3.0, 3.0), (-3.0, 3.0)]
IZH_BOUNDS = [(-90.0, 0.0), (-30.0, 10.0)]
ML_BOUNDS = [(-80.0, 60.0), (0.0, 1.0)]
HH_BOUNDS = [(-90.0, 40.0), (0.0, 1.0), (0.0, 1.0), (0.0, 1.0)]


# ---------------------------------------------------------------------------------------------
# FitzHugh–Nagumo: everything in closed form
# ---------------------------------------------------------------------------------------------


def fhn_analytic(current, tau_w=12.5, a=0.7, b=0.8):
    """Fixed point from Cardano's formula and eigenvalues from trace/determinant.

    v − v³/3 − (v + a)/b + I = 0  ⇔  v³ + p v + q = 0 with p = 3(1/b − 1), q = 3(a/b − I);
    p > 0 here, so there is one real root."""
    p, q = 3.0 * (1.0 / b - 1.0), 3.0 * (a / b - current)
    disc = np.sqrt(q * q / 4.0 + p**3 / 27.0)
    v = np.cbrt(-q / 2.0 + disc) + np.cbrt(-q / 2.0 - disc)
    w = (v + a) / b
    tr, det = 1.0 - v * v - b / tau_w, -(1.0 - v * v) * b / tau_w + 1.0 / tau_w
    root = np.sqrt(complex(tr * tr / 4.0 - det))
    return np.array([v, w]), np.array([tr / 2.0 + root, tr / 2.0 - root])


@pytest.mark.parametrize("current", [0.0, 0.5])
def test_fhn_fixed_point_and_eigenvalues_match_cardano(current):
    pts = dyn.fixed_points(scjax.FitzHughNagumo(), current, FHN_BOUNDS, 6)
    assert len(pts) == 1
    y_true, lam_true = fhn_analytic(current)
    np.testing.assert_allclose(pts[0].state, y_true, rtol=0, atol=1e-10)
    lam = pts[0].eigenvalues
    np.testing.assert_allclose(lam.real, np.sort(lam_true.real)[::-1], atol=1e-10)
    np.testing.assert_allclose(np.sort(lam.imag), np.sort(lam_true.imag), atol=1e-10)
    # I = 0 is the stable rest (complex pair, Re < 0); I = 0.5 is past the Hopf point.
    assert pts[0].kind == ("stable focus" if current == 0.0 else "unstable focus")


def test_fhn_hopf_points_match_trace_zero():
    # Hopf ⇔ tr J = 0 ⇔ v*² = 1 − b/τ_w, and I = v³/3 + v(1/b − 1) + a/b from the fixed point.
    v = np.sqrt(1.0 - 0.8 / 12.5)
    expected = sorted(s * v**3 / 3.0 + s * v * (1 / 0.8 - 1) + 0.7 / 0.8 for s in (-1, 1))
    scan = dyn.bifurcation_scan(scjax.FitzHughNagumo(), np.linspace(0.0, 1.6, 9), FHN_BOUNDS, 6)
    np.testing.assert_allclose(scan.hopf_currents(), expected, atol=1e-9)
    assert scan.saddle_node_currents() == []
    assert scan.v_min is None


def test_fhn_nullclines_are_the_cubic_and_the_line():
    # dv/dt = 0: w = v − v³/3 + I (the cubic); dw/dt = 0: w = (v + a)/b (a line).
    current = 0.5
    nc = dyn.nullclines(scjax.FitzHughNagumo(), current, FHN_BOUNDS, resolution=80)
    assert isinstance(nc, dyn.Nullclines) and nc.current == current
    cubic, line = np.concatenate(nc.lines["v"]), np.concatenate(nc.lines["w"])
    assert len(cubic) > 100 and len(line) > 60
    np.testing.assert_allclose(
        cubic[:, 1], cubic[:, 0] - cubic[:, 0] ** 3 / 3 + current, rtol=0, atol=1e-13
    )
    np.testing.assert_allclose(line[:, 1], (line[:, 0] + 0.7) / 0.8, rtol=0, atol=1e-13)
    # the cubic inside the box |w| ≤ 3 spans v in [−2.75, 2.55] roughly: covered end to end
    v = np.linspace(-3, 3, 600001)
    inside = v[np.abs(v - v**3 / 3 + current) <= 3]
    assert cubic[:, 0].min() == pytest.approx(inside.min(), abs=1e-3)
    assert cubic[:, 0].max() == pytest.approx(inside.max(), abs=1e-3)


# ---------------------------------------------------------------------------------------------
# Izhikevich RS: the parabola and its saddle-node at I = 4
# ---------------------------------------------------------------------------------------------


def test_izhikevich_nullclines_are_the_analytic_curves():
    current = 5.0
    nc = dyn.nullclines(scjax.Izhikevich.preset("RS"), current, IZH_BOUNDS, resolution=60)
    assert nc.state_names == ("v", "u")
    v_lines, u_lines = nc.lines["v"], nc.lines["u"]
    assert len(v_lines) >= 1 and len(u_lines) == 1
    pts = np.concatenate(v_lines)
    assert len(pts) > 40
    v, u = pts[:, 0], pts[:, 1]
    np.testing.assert_allclose(u, 0.04 * v**2 + 5 * v + 140 + current, atol=1e-9)
    # the parabola's part inside the box: u ≤ 10 ⇔ v in [−66.7, −58.3] roughly — covered.
    v_in = np.linspace(-90, 0, 20001)
    u_in = 0.04 * v_in**2 + 5 * v_in + 140 + current
    inside = v_in[(u_in >= -30) & (u_in <= 10)]
    assert v.min() == pytest.approx(inside.min(), abs=1e-2)
    assert v.max() == pytest.approx(inside.max(), abs=1e-2)
    # u-nullcline u = b v, a straight line across the whole box.
    uu = u_lines[0]
    np.testing.assert_allclose(uu[:, 1], 0.2 * uu[:, 0], atol=1e-9)


def test_izhikevich_fixed_points_and_saddle_node():
    model = scjax.Izhikevich.preset("RS")
    # 0.04 v² + (5 − b) v + 140 + I = 0: two roots for I < 4, merging at v = −60 when I = 4.
    pts = dyn.fixed_points(model, 0.0, IZH_BOUNDS)
    disc = np.sqrt(4.8**2 - 4 * 0.04 * 140)
    roots = sorted([(-4.8 - disc) / 0.08, (-4.8 + disc) / 0.08])
    np.testing.assert_allclose([p.state[0] for p in pts], roots, atol=1e-10)
    assert [p.kind for p in pts] == ["stable node", "saddle"]
    # Just before the fold the node turns into a focus and loses stability: tr J = 0 at
    # 0.08 v + 5 = a, i.e. v = −62.25, with det J = a (b − a) > 0 — a Hopf point at
    # I = −(0.04 v² + 4.8 v + 140) = 3.7975, 0.2025 below the saddle-node.
    scan = dyn.bifurcation_scan(model, np.linspace(0.0, 8.0, 41), IZH_BOUNDS)
    v_h = (0.02 - 5.0) / 0.08
    (hopf,) = [b for b in scan.bifurcations if b.kind == "hopf"]
    assert hopf.current == pytest.approx(-(0.04 * v_h**2 + 4.8 * v_h + 140), abs=1e-9)
    np.testing.assert_allclose(hopf.state, [v_h, 0.2 * v_h], atol=1e-7)
    (sn,) = [b for b in scan.bifurcations if b.kind == "saddle-node"]
    assert sn.current == pytest.approx(4.0, abs=1e-9)
    np.testing.assert_allclose(sn.state, [-60.0, -12.0], atol=1e-6)
    assert [p.kind for p in scan.fixed_points[int(np.argmin(np.abs(scan.currents - 3.8)))]] == [
        "unstable focus",
        "saddle",
    ]


def test_jacobian_matches_central_differences():
    model = scjax.HodgkinHuxley()
    y = jnp.array([-60.0, 0.1, 0.5, 0.4])
    jac = np.asarray(jax.jit(dyn.jacobian)(model, y, 3.0))
    f = lambda z: np.asarray(model.vector_field(0.0, jnp.asarray(z), 3.0))  # noqa: E731
    h = 1e-6
    fd = np.stack([(f(y + h * e) - f(y - h * e)) / (2 * h) for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(jac, fd, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------------------------------
# Morris–Lecar and Hodgkin–Huxley: Hopf current against an independent SciPy computation
# (`scjax.backends.scipy.hopf_current`: no JAX)
# ---------------------------------------------------------------------------------------------


def test_scipy_hopf_locator_matches_the_fhn_closed_form():
    # The independent locator (NumPy transcription, central differences, SciPy root/brentq)
    # that the Morris–Lecar and Hodgkin–Huxley checks below rely on, against tr J = 0.
    v = np.sqrt(1.0 - 0.8 / 12.5)
    lower = -(v**3) / 3.0 - v * (1 / 0.8 - 1) + 0.7 / 0.8
    assert scipy_backend.hopf_current(scjax.FitzHughNagumo(), 0.0, 0.8) == pytest.approx(
        lower, abs=1e-8
    )
    with pytest.raises(ValueError, match="f\\(a\\) and f\\(b\\) must have different signs"):
        scipy_backend.hopf_current(scjax.FitzHughNagumo(), 0.0, 0.2)


def test_morris_lecar_hopf_matches_scipy():
    scan = dyn.bifurcation_scan(scjax.MorrisLecar(), np.linspace(60.0, 240.0, 7), ML_BOUNDS, 6)
    hopf = scan.hopf_currents()
    assert len(hopf) == 2
    assert hopf[0] == pytest.approx(
        scipy_backend.hopf_current(scjax.MorrisLecar(), 60.0, 150.0), abs=1e-4
    )
    assert hopf[1] == pytest.approx(
        scipy_backend.hopf_current(scjax.MorrisLecar(), 150.0, 240.0), abs=1e-4
    )
    # between the two Hopf points the single fixed point is unstable (focus, or node mid-way)
    mid = [
        p for c, pts in zip(scan.currents, scan.fixed_points) for p in pts if hopf[0] < c < hopf[1]
    ]
    assert mid and all(p.kind in ("unstable focus", "unstable node") for p in mid)
    assert all(
        p.stable
        for c, pts in zip(scan.currents, scan.fixed_points)
        for p in pts
        if c < hopf[0] or c > hopf[1]
    )


def test_hodgkin_huxley_hopf_and_fi_curve():
    model = scjax.HodgkinHuxley()
    scan = dyn.bifurcation_scan(model, np.linspace(6.0, 14.0, 5), HH_BOUNDS, 2)
    assert all(len(pts) == 1 for pts in scan.fixed_points)
    (i_hopf,) = scan.hopf_currents()
    assert i_hopf == pytest.approx(scipy_backend.hopf_current(model, 6.0, 14.0), abs=1e-4)
    assert 9.0 < i_hopf < 10.5  # the textbook ≈ 9.78 µA/cm²

    # F–I: below the Hopf point, started at its stable fixed point, HH stays at rest; above
    # it, started from the I = 0 rest state (a current step), it fires repetitively.
    below = np.array([0.0, 3.0, 6.0, i_hopf - 0.5])
    above = np.array([i_hopf + 0.5, 15.0, 30.0])
    currents = np.concatenate([below, above])
    y_below = [dyn.fixed_points(model, float(i), HH_BOUNDS, 2)[0].state for i in below]
    y0 = np.stack(y_below + [np.asarray(model.initial_state())] * len(above))
    rates = np.asarray(
        dyn.fi_curve(model, currents, dt=0.01, duration=200.0, transient=100.0, y0=y0)
    )
    assert np.all(rates[: len(below)] == 0.0)
    assert np.all(rates[len(below) :] > 40.0)  # HH fires at ≳ 50 Hz once it fires at all
    assert np.all(np.diff(rates[len(below) :]) > 0)  # and faster with more current


# ---------------------------------------------------------------------------------------------
# Classification and bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lam, kind",
    [
        ([-1.0, -2.0], "stable node"),
        ([-1 + 2j, -1 - 2j], "stable focus"),
        ([1.0, 2.0], "unstable node"),
        ([0.5 + 1j, 0.5 - 1j], "unstable focus"),
        ([1.0, -1.0], "saddle"),
        ([1e-14 + 1j, 1e-14 - 1j], "centre-like"),
        ([0.0, -1.0], "non-hyperbolic"),
        ([0.1 + 1j, 0.1 - 1j, -3.0, -5.0], "unstable focus"),
    ],
)
def test_classify(lam, kind):
    assert dyn.classify(np.array(lam, complex)) == kind


def test_bad_input_raises_value_error():
    fhn = scjax.FitzHughNagumo()
    with pytest.raises(ValueError, match="bounds"):
        dyn.fixed_points(fhn, 0.0, [])
    with pytest.raises(ValueError, match="bounds"):
        dyn.fixed_points(fhn, 0.0, [(1.0, -1.0), (0.0, 1.0)])
    with pytest.raises(ValueError, match="bounds"):
        dyn.nullclines(fhn, 0.0, [(0.0, 1.0)])
    with pytest.raises(ValueError, match="n_seeds"):
        dyn.fixed_points(fhn, 0.0, FHN_BOUNDS, 0)
    with pytest.raises(ValueError, match="two states"):
        dyn.nullclines(scjax.HodgkinHuxley(), 0.0, HH_BOUNDS)
    with pytest.raises(ValueError, match="resolution"):
        dyn.nullclines(fhn, 0.0, FHN_BOUNDS, resolution=2)
    with pytest.raises(ValueError, match="currents"):
        dyn.bifurcation_scan(fhn, [], FHN_BOUNDS)
    with pytest.raises(ValueError, match="dt"):
        dyn.fi_curve(fhn, [0.5], dt=-0.1, duration=10.0)
    with pytest.raises(ValueError, match="model"):
        dyn.fixed_points("fhn", 0.0, FHN_BOUNDS)
