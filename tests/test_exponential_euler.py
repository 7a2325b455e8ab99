"""ExponentialEuler / Rush–Larsen: coefficients, one step against NumPy, order, stability,
diffeqsolve, gradients, refusals."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax.solvers import ExponentialEuler, ModelTerm

from .helpers import loglog_slope

VARIANTS = [("exponential_euler", "exponential"), ("rush_larsen", "euler")]


@eqx.filter_jit
def _states(model, solver, current, dt, n, n_max: int):
    """States after 0..n_max steps of `solver` with step dt, frozen after step n: one compile
    per (model, solver) serves every dt of a convergence study."""
    term = ModelTerm(model)

    def body(y, i):
        t = i * dt
        y1, _, _, _, _ = solver.step(term, t, t + dt, y, current, None, False)
        y = jnp.where(i < n, y1, y)
        return y, y

    y0 = model.initial_state()
    _, ys = jax.lax.scan(body, y0, jnp.arange(n_max))
    return jnp.concatenate([y0[None], ys])


def _on_grid(model, solver, current, dt, duration, grid, n_max):
    n = int(round(duration / dt))
    ys = np.asarray(_states(model, solver, current, jnp.asarray(dt), jnp.asarray(n), n_max))
    return ys[: n + 1 : int(round(grid / dt))]


# --- the coefficients the models declare ---------------------------------------------------


def _random_states(model, key, count):
    k1, k2, k3 = jax.random.split(key, 3)
    v = jax.random.uniform(k1, (count, 1), minval=-100.0, maxval=60.0)
    gates = jax.random.uniform(k2, (count, model.n_state - 1))
    current = jax.random.uniform(k3, (count,), minval=-20.0, maxval=150.0)
    return jnp.concatenate([v, gates], axis=1), current


@pytest.mark.parametrize("model", [scjax.HodgkinHuxley(), scjax.MorrisLecar()], ids=["hh", "ml"])
def test_linear_coefficients_reproduce_the_vector_field(model, getkey):
    ys, currents = _random_states(model, getkey(), 256)
    f = jax.jit(jax.vmap(lambda y, i: model.vector_field(0.0, y, i)))(ys, currents)
    drift, rate = jax.jit(jax.vmap(lambda y, i: model.linear_coefficients(0.0, y, i)))(ys, currents)
    np.testing.assert_allclose(
        np.asarray(drift - rate * ys),
        np.asarray(f),
        rtol=1e-12,
        atol=1e-12 * float(jnp.max(jnp.abs(drift))),
    )
    assert np.all(np.asarray(rate) > 0)
    # (x∞ − y)/τ is the same field.
    x_inf, tau = drift / rate, 1.0 / rate
    np.testing.assert_allclose(np.asarray((x_inf - ys) / tau), np.asarray(f), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("model", [scjax.HodgkinHuxley(), scjax.MorrisLecar()], ids=["hh", "ml"])
def test_coefficients_do_not_depend_on_their_own_component(model, getkey):
    """Conditional linearity: ∂aᵢ/∂yᵢ = ∂bᵢ/∂yᵢ = 0 — for every HH component, and for
    Morris–Lecar's w (its V coefficients depend on V through the instantaneous m∞(V))."""
    ys, currents = _random_states(model, getkey(), 32)
    jac = jax.jit(jax.vmap(jax.jacfwd(lambda y, i: model.linear_coefficients(0.0, y, i))))(
        ys, currents
    )
    own = [np.abs(np.diagonal(np.asarray(j), axis1=-2, axis2=-1)).max(axis=0) for j in jac]
    exact = [
        i
        for i, name in enumerate(model.state_names)
        if isinstance(model, scjax.HodgkinHuxley) or name != "v"
    ]
    for d in own:
        assert np.all(d[exact] == 0.0), own
    if isinstance(model, scjax.MorrisLecar):
        assert own[1][0] > 0  # the frozen m∞(V): documented, not hidden


# --- one step against an independent NumPy transcription ----------------------------------


def _hh_rates(v):
    """Textbook HH rates (1/ms, V in mV), written out, not imported from scjax."""
    am = 0.1 * (v + 40.0) / (1.0 - np.exp(-(v + 40.0) / 10.0))
    bm = 4.0 * np.exp(-(v + 65.0) / 18.0)
    ah = 0.07 * np.exp(-(v + 65.0) / 20.0)
    bh = 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0))
    an = 0.01 * (v + 55.0) / (1.0 - np.exp(-(v + 55.0) / 10.0))
    bn = 0.125 * np.exp(-(v + 65.0) / 80.0)
    return (am, bm), (ah, bh), (an, bn)


def _hh_step_numpy(y, current, dt, membrane):
    """Brian2's exponential_euler update, x ← x∞ + (x − x∞)·exp(−dt/τ), for HH."""
    v, m, h, n = y
    g = 120.0 * m**3 * h + 36.0 * n**4 + 0.3
    big_a = current + 120.0 * m**3 * h * 50.0 + 36.0 * n**4 * (-77.0) + 0.3 * (-54.387)
    if membrane == "exponential":
        v_inf, tau_v = big_a / g, 1.0 / g
        v_new = v_inf + (v - v_inf) * np.exp(-dt / tau_v)
    else:
        v_new = v + dt * (big_a - g * v)
    gates = []
    for x, (a, b) in zip((m, h, n), _hh_rates(v)):
        x_inf, tau = a / (a + b), 1.0 / (a + b)
        gates.append(x_inf + (x - x_inf) * np.exp(-dt / tau))
    return np.array([v_new, *gates])


def _ml_step_numpy(y, current, dt, membrane):
    """The same update for Morris–Lecar (Rinzel–Ermentrout parameters), m∞(V) frozen."""
    v, w = y
    m_inf = 0.5 * (1.0 + np.tanh((v + 1.2) / 18.0))
    w_inf = 0.5 * (1.0 + np.tanh((v - 2.0) / 30.0))
    tau_w = 1.0 / (0.04 * np.cosh((v - 2.0) / 60.0))
    g = (2.0 + 4.4 * m_inf + 8.0 * w) / 20.0
    big_a = (current + 2.0 * (-60.0) + 4.4 * m_inf * 120.0 + 8.0 * w * (-84.0)) / 20.0
    if membrane == "exponential":
        v_new = big_a / g + (v - big_a / g) * np.exp(-dt * g)
    else:
        v_new = v + dt * (big_a - g * v)
    return np.array([v_new, w_inf + (w - w_inf) * np.exp(-dt / tau_w)])


@pytest.mark.parametrize("name, membrane", VARIANTS)
@pytest.mark.parametrize(
    "model, numpy_step",
    [(scjax.HodgkinHuxley(), _hh_step_numpy), (scjax.MorrisLecar(), _ml_step_numpy)],
    ids=["hh", "ml"],
)
def test_one_step_matches_numpy_transcription(name, membrane, model, numpy_step, getkey):
    solver = scjax.solvers.solver_from_name(name)
    assert solver == ExponentialEuler(membrane=membrane)
    ys, currents = _random_states(model, getkey(), 64)
    dt = 0.05
    step = jax.jit(
        jax.vmap(lambda y, i: solver.step(ModelTerm(model), 0.0, dt, y, i, None, False)[0])
    )
    ours = np.asarray(step(ys, currents))
    theirs = np.stack(
        [numpy_step(np.asarray(y), float(i), dt, membrane) for y, i in zip(ys, currents)]
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


# --- order 1 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name, membrane", VARIANTS)
@pytest.mark.parametrize(
    "model, current, duration, dts",
    [
        # HH sub-threshold (I = 2 µA/cm²: a damped oscillation to rest), as tests/test_solvers.
        (scjax.HodgkinHuxley(), 2.0, 20.0, [0.1, 0.05, 0.025, 0.0125]),
        # Morris–Lecar on its limit cycle (I = 100 µA/cm²: repetitive firing).
        (scjax.MorrisLecar(), 100.0, 100.0, [0.4, 0.2, 0.1, 0.05]),
    ],
    ids=["hh_subthreshold", "ml_firing"],
)
def test_order_one(name, membrane, model, current, duration, dts):
    grid, n_max = dts[0], int(round(duration / dts[-1]))
    ref_dt = dts[-1] / 16
    reference = _on_grid(
        model, scjax.solvers.RK4(), current, ref_dt, duration, grid, int(round(duration / ref_dt))
    )
    solver = ExponentialEuler(membrane=membrane)
    errors = [
        np.max(np.abs(_on_grid(model, solver, current, dt, duration, grid, n_max) - reference))
        for dt in dts
    ]
    slope = loglog_slope(dts, errors)
    assert 0.9 <= slope <= 1.2, (name, errors, slope)


# --- stability where Euler diverges ----------------------------------------------------------


def test_hh_exponential_euler_stable_at_dt_0_1_where_euler_diverges():
    model, dt, duration, amplitude = scjax.HodgkinHuxley(), 0.1, 50.0, 10.0
    current = jnp.full(int(round(duration / dt)), amplitude)
    reference = scjax.adaptive.solve(model, (0.0, duration), amplitude)
    assert int(reference.n_spikes) >= 3
    tr = scjax.simulate(scjax.HodgkinHuxley(integrator="exponential_euler"), current, dt)
    y = np.asarray(tr.y)
    assert np.all(np.isfinite(y)) and not bool(tr.diverged)
    assert np.all((y[:, 0] > -100.0) & (y[:, 0] < 60.0))
    # Each gate is a convex combination of its old value and x∞ ∈ [0, 1].
    assert np.all((y[:, 1:] >= 0.0) & (y[:, 1:] <= 1.0))
    assert int(tr.spike_count) == int(reference.n_spikes)
    # First-order phase error: inter-spike intervals 5.5 % long at this dt (measured).
    isi, isi_ref = np.diff(tr.spike_times()), np.diff(reference.spike_times_array())
    np.testing.assert_allclose(isi, isi_ref, rtol=0.1)
    assert np.all(isi > isi_ref)
    assert bool(scjax.simulate(model, current, dt, throw=False).diverged)  # Euler
    # Rush–Larsen keeps Euler's membrane update, hence its V stability bound: measured limit.
    rush_larsen = scjax.HodgkinHuxley(integrator="rush_larsen")
    assert bool(scjax.simulate(rush_larsen, current, dt, throw=False).diverged)
    half_step = scjax.simulate(rush_larsen, jnp.full(2 * current.shape[0], amplitude), dt / 2)
    assert int(half_step.spike_count) == int(reference.n_spikes)


# --- diffeqsolve, gradients -------------------------------------------------------------------


@pytest.mark.parametrize("name, membrane", VARIANTS)
def test_fixed_step_in_diffeqsolve_matches_simulate(name, membrane):
    model = scjax.HodgkinHuxley()
    dt, n = 0.02, 250
    ours = scjax.simulate(scjax.HodgkinHuxley(integrator=name), jnp.full(n, 10.0), dt).y
    sol = diffrax.diffeqsolve(
        ModelTerm(model),
        ExponentialEuler(membrane=membrane),
        0.0,
        n * dt,
        dt,
        model.initial_state(),
        args=10.0,
        saveat=diffrax.SaveAt(ts=jnp.arange(n + 1) * dt),
        max_steps=n + 1,
    )
    np.testing.assert_allclose(np.asarray(sol.ys), np.asarray(ours), rtol=1e-9, atol=1e-9)


def _central_difference(f, x, eps):
    return (f(x + eps) - f(x - eps)) / (2.0 * eps)


@pytest.mark.parametrize("name, membrane", VARIANTS)
def test_gradient_matches_finite_differences(name, membrane):
    current = jnp.full(200, 5.0)

    @jax.jit
    def loss(g_k, g_na):
        model = scjax.HodgkinHuxley(g_k=g_k, g_na=g_na, integrator=name)
        return jnp.mean(scjax.simulate(model, current, 0.05).v)

    grad = jax.grad(loss, argnums=(0, 1))(36.0, 120.0)
    fd = (
        _central_difference(lambda g: loss(g, 120.0), 36.0, 1e-3),
        _central_difference(lambda g: loss(36.0, g), 120.0, 1e-3),
    )
    np.testing.assert_allclose(np.asarray(grad), np.asarray(fd), rtol=1e-5)


def test_gradient_finite_as_the_time_constant_goes_to_infinity():
    """φ = 0 freezes w (rate 0, τ = ∞): the step is the exprel limit, value and gradient
    finite and equal to finite differences across 0."""
    solver, y0 = ExponentialEuler(), jnp.array([-20.0, 0.3])

    def w_after(phi):
        # tree_at skips the constructor's domain check: the difference quotient probes φ < 0.
        model = eqx.tree_at(lambda m: m.phi, scjax.MorrisLecar(), jnp.asarray(phi))
        return solver.step(ModelTerm(model), 0.0, 0.5, y0, 100.0, None, False)[0][1]

    assert float(w_after(0.0)) == 0.3
    grad = float(jax.jit(jax.grad(w_after))(0.0))
    # d w₁/dφ at φ = 0 is h·cosh((V − V₃)/2V₄)·(w∞(V) − w), the Euler step's derivative.
    ml = scjax.MorrisLecar()
    expected = 0.5 * np.cosh((-20.0 - ml.v3) / (2 * ml.v4)) * (float(ml.w_inf(-20.0)) - 0.3)
    np.testing.assert_allclose(grad, expected, rtol=1e-12)
    np.testing.assert_allclose(grad, float(_central_difference(w_after, 0.0, 1e-6)), rtol=1e-6)


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["exponential_euler", "rush_larsen"])
def test_non_conductance_models_refuse_the_names(name):
    with pytest.raises(ValueError, match=f"{name}.*Izhikevich.*HodgkinHuxley.*MorrisLecar"):
        scjax.Izhikevich(integrator=name)
    with pytest.raises(ValueError, match=f"{name}.*Izhikevich.*HodgkinHuxley"):
        scjax.simulate(
            scjax.Izhikevich(), jnp.full(10, 10.0), 0.1, solver=scjax.solvers.solver_from_name(name)
        )


def test_a_term_without_the_model_is_refused():
    model = scjax.HodgkinHuxley()
    with pytest.raises(ValueError, match="ModelTerm"):
        diffrax.diffeqsolve(
            model.term(), ExponentialEuler(), 0.0, 1.0, 0.1, model.initial_state(), args=10.0
        )
    with pytest.raises(ValueError, match="membrane"):
        ExponentialEuler(membrane="implicit")


def test_simulate_batch_matches_single_runs():
    g_na = jnp.array([100.0, 120.0, 140.0])
    current = jnp.full(200, 10.0)
    batch = scjax.simulate_batch(
        scjax.HodgkinHuxley(g_na=g_na, integrator="exponential_euler"), current, 0.05
    )
    for i, g in enumerate(np.asarray(g_na)):
        single = scjax.simulate(
            scjax.HodgkinHuxley(g_na=float(g), integrator="exponential_euler"), current, 0.05
        )
        np.testing.assert_allclose(
            np.asarray(batch.y[i]), np.asarray(single.y), rtol=1e-12, atol=1e-12
        )
        np.testing.assert_array_equal(np.asarray(batch.spikes[i]), np.asarray(single.spikes))
