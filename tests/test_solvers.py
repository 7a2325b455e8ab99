"""Solvers: empirical orders, diffeqsolve compatibility, stiffness, spiking agreement."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax

from .helpers import SOLVERS, loglog_slope

CANDIDATES = [s for s in SOLVERS if s[0] in ("rk4", "rosenbrock", "rosenbrock2")]


def _trace_on_grid(model, solver, dt, duration, amplitude, grid):
    """The trajectory sampled every `grid` ms (a multiple of dt)."""
    n = int(round(duration / dt))
    # Sub-threshold windows: no upstroke, so large Rosenbrock steps are legitimate here.
    y = np.asarray(
        scjax.simulate(model, jnp.full(n, amplitude), dt, solver=solver, check_step=False).y
    )
    return y[:: int(round(grid / dt))]


@pytest.mark.parametrize("name, cls, order", SOLVERS)
@pytest.mark.parametrize(
    "model, amplitude, duration, dts",
    [
        # HH sub-threshold (I = 2 µA/cm²: damped oscillation to a stable rest), smooth.
        (scjax.HodgkinHuxley(), 2.0, 20.0, [0.1, 0.05, 0.025, 0.0125]),
        # FHN on its relaxation limit cycle (I = 0.5), no threshold logic involved.
        (scjax.FitzHughNagumo(), 0.5, 20.0, [0.1, 0.05, 0.025, 0.0125]),
    ],
    ids=["hh_subthreshold", "fhn"],
)
def test_convergence_order(name, cls, order, model, amplitude, duration, dts):
    solver = scjax.solvers.solver_from_name(name, fast_mask=model.fast_mask)
    grid = dts[0]
    reference = _trace_on_grid(model, scjax.solvers.RK4(), dts[-1] / 16, duration, amplitude, grid)
    # Global error: the maximum over the whole window, not one end point (where an error
    # that oscillates in sign can cancel by chance).
    errors = [
        np.max(np.abs(_trace_on_grid(model, solver, dt, duration, amplitude, grid) - reference))
        for dt in dts
    ]
    slope = loglog_slope(dts, errors)
    assert abs(slope - order) <= 0.25, (name, errors, slope)


@pytest.mark.parametrize("cls", [scjax.solvers.RosenbrockEuler, scjax.solvers.Rosenbrock2])
def test_rosenbrock_order_on_time_dependent_ode(cls):
    # y' = -y + sin(t) exercises the ∂f/∂t terms; exact solution below.
    term = diffrax.ODETerm(lambda t, y, args: -y + jnp.sin(t))
    y0 = jnp.array([1.0])
    exact = lambda t: (y0[0] + 0.5) * np.exp(-t) + 0.5 * (np.sin(t) - np.cos(t))  # noqa: E731
    dts = [0.1, 0.05, 0.025, 0.0125]
    errors = []
    for dt in dts:
        sol = diffrax.diffeqsolve(term, cls(), 0.0, 2.0, dt, y0, max_steps=1000)
        errors.append(abs(float(sol.ys[-1, 0]) - exact(2.0)))
    expected = 1 if cls is scjax.solvers.RosenbrockEuler else 2
    assert abs(loglog_slope(dts, errors) - expected) <= 0.25, errors


@pytest.mark.parametrize("name, cls, order", SOLVERS)
def test_fixed_step_in_diffeqsolve_matches_simulate(name, cls, order):
    model = scjax.HodgkinHuxley()
    solver = scjax.solvers.solver_from_name(name, fast_mask=model.fast_mask)
    dt, n = 0.02, 250
    ours = scjax.simulate(model, jnp.full(n, 2.0), dt, solver=solver).y
    sol = diffrax.diffeqsolve(
        model.term(),
        solver,
        0.0,
        n * dt,
        dt,
        model.initial_state(),
        args=2.0,
        saveat=diffrax.SaveAt(ts=jnp.arange(n + 1) * dt),
        max_steps=n + 1,
    )
    np.testing.assert_allclose(np.asarray(sol.ys), np.asarray(ours), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name, cls, order", SOLVERS)
def test_adaptive_use(name, cls, order):
    """Rosenbrock methods run adaptively; fixed-step ones refuse a PIDController clearly."""
    model = scjax.FitzHughNagumo()
    solver = scjax.solvers.solver_from_name(name, fast_mask=model.fast_mask)
    controller = diffrax.PIDController(rtol=1e-6, atol=1e-8)
    kwargs = dict(args=0.5, stepsize_controller=controller, max_steps=100_000)
    if not isinstance(solver, diffrax.AbstractAdaptiveSolver):
        with pytest.raises(Exception, match="error estimates"):
            diffrax.diffeqsolve(
                model.term(), solver, 0.0, 20.0, 0.1, model.initial_state(), **kwargs
            )
        return
    sol = diffrax.diffeqsolve(model.term(), solver, 0.0, 20.0, 0.1, model.initial_state(), **kwargs)
    truth = diffrax.diffeqsolve(
        model.term(),
        diffrax.Tsit5(),
        0.0,
        20.0,
        0.1,
        model.initial_state(),
        args=0.5,
        stepsize_controller=diffrax.PIDController(rtol=1e-12, atol=1e-12),
        max_steps=100_000,
    )
    assert np.max(np.abs(np.asarray(sol.ys[-1]) - np.asarray(truth.ys[-1]))) < 1e-3
    assert int(sol.stats["num_accepted_steps"]) < 20_000


def test_half_euler_needs_fast_mask_in_diffeqsolve():
    model = scjax.Izhikevich()
    with pytest.raises(ValueError, match="fast_mask"):
        diffrax.diffeqsolve(
            model.term(), scjax.solvers.HalfEuler(), 0.0, 1.0, 0.1, model.initial_state(), args=10.0
        )


def test_stiffness_rosenbrock_stays_bounded_where_euler_diverges():
    model = scjax.HodgkinHuxley()
    current = jnp.full(1000, 10.0)
    euler = scjax.simulate(model, current, 0.1, throw=False)
    assert bool(euler.diverged)
    with pytest.raises(Exception, match="non-finite"):
        scjax.simulate(model, current, 0.1).y.block_until_ready()
    reference = _spike_times(model, scjax.solvers.RK4(), 0.001, 100.0, 10.0)
    tr = scjax.simulate(model, current, 0.1, solver=scjax.solvers.RosenbrockEuler())
    y = np.asarray(tr.y)
    assert np.all(np.isfinite(y))
    assert np.all((y[:, 0] > -100) & (y[:, 0] < 60))
    assert np.all((y[:, 1:] >= -1e-6) & (y[:, 1:] <= 1 + 1e-6))
    assert int(tr.spike_count) == len(reference)
    # ROS2 stays bounded at this dt too but stalls every upstroke (0 spikes instead of 7),
    # so simulate refuses it, naming the dt it would accept.
    with pytest.raises(ValueError, match="upstroke"):
        scjax.simulate(model, current, 0.1, solver=scjax.solvers.Rosenbrock2())
    stalled = scjax.simulate(
        model, current, 0.1, solver=scjax.solvers.Rosenbrock2(), check_step=False
    )
    y = np.asarray(stalled.y)
    assert np.all(np.isfinite(y)) and np.all((y[:, 0] > -100) & (y[:, 0] < 60))
    assert int(stalled.spike_count) < len(reference)


def _spike_times(model, solver, dt, duration, amplitude):
    tr = scjax.simulate(model, jnp.full(int(round(duration / dt)), amplitude), dt, solver=solver)
    return tr.spike_times()


@pytest.mark.parametrize("name, cls, order", CANDIDATES)
@pytest.mark.parametrize(
    "model, amplitude, dt, duration",
    [
        (scjax.HodgkinHuxley(), 10.0, 0.01, 50.0),
        # v_peak = V_T + 5Δ_T (Brian 2's cut-off) keeps the upstroke rate below 1/(γ dt).
        (scjax.AdEx(v_peak=-40.4), 800.0, 0.005, 60.0),
    ],
    ids=["hh", "adex"],
)
def test_candidates_agree_with_fine_rk4(name, cls, order, model, amplitude, dt, duration):
    reference = _spike_times(model, scjax.solvers.RK4(), dt / 20, duration, amplitude)
    times = _spike_times(model, cls(), dt, duration, amplitude)
    assert len(reference) >= 2
    assert len(times) == len(reference)
    np.testing.assert_allclose(times, reference, atol=2 * dt)


@pytest.mark.parametrize(
    "model, amplitude, solver, accepted_dt, refused_dt",
    [
        (scjax.Izhikevich(), 10.0, scjax.solvers.Rosenbrock2(), 0.035, 0.05),
        (scjax.AdEx(v_peak=-40.4), 800.0, scjax.solvers.Rosenbrock2(), 0.0125, 0.025),
        (scjax.AdEx(v_peak=-40.4), 800.0, scjax.solvers.RosenbrockEuler(), 0.05, 0.07),
        (scjax.HodgkinHuxley(), 10.0, scjax.solvers.Rosenbrock2(), 0.025, 0.1),
    ],
)
def test_upstroke_limit_separates_working_from_stalling_steps(
    model, amplitude, solver, accepted_dt, refused_dt
):
    reference = _spike_times(model, scjax.solvers.RK4(), 0.002, 200.0, amplitude)
    times = _spike_times(model, solver, accepted_dt, 200.0, amplitude)
    assert len(times) == len(reference) >= 4
    with pytest.raises(ValueError, match="upstroke"):
        _spike_times(model, solver, refused_dt, 200.0, amplitude)
    # The refusal is not over-cautious: just past the limit the step really stalls.
    stalled = scjax.simulate(
        model,
        jnp.full(int(200.0 / refused_dt), amplitude),
        refused_dt,
        solver=solver,
        check_step=False,
    )
    assert int(stalled.spike_count) < len(reference)


def test_rosenbrock_refuses_a_step_past_the_upstroke_pole():
    with pytest.raises(ValueError, match="dt"):
        scjax.simulate(scjax.AdEx(integrator="rosenbrock"), jnp.full(10, 500.0), 0.05)
    with pytest.raises(ValueError, match="dt"):
        scjax.simulate(scjax.Izhikevich(integrator="rosenbrock2"), jnp.full(10, 10.0), 0.1)


def test_unknown_integrator_name():
    with pytest.raises(ValueError, match="integrator"):
        scjax.Izhikevich(integrator="rk5")
    with pytest.raises(ValueError, match="integrator"):
        scjax.solvers.solver_from_name("heun")


def test_vmapped_over_solvers_state():
    # jit once, many initial states: the loop vmaps over y0.
    model = scjax.FitzHughNagumo(integrator="rk4")
    y0s = jnp.stack([jnp.array([v, -0.5]) for v in np.linspace(-2, 2, 8)])
    batch = jax.vmap(lambda y0: scjax.simulate(model, jnp.full(100, 0.5), 0.1, y0=y0).y)(y0s)
    single = np.stack(
        [np.asarray(scjax.simulate(model, jnp.full(100, 0.5), 0.1, y0=y).y) for y in y0s]
    )
    np.testing.assert_array_equal(np.asarray(batch), single)


_ROSENBROCKS = [scjax.solvers.RosenbrockEuler, scjax.solvers.Rosenbrock2, scjax.solvers.Rodas5P]


@pytest.mark.parametrize("cls", _ROSENBROCKS)
def test_elimination_solve_equals_lu_to_rounding(cls):
    # linear_solve="elimination" (opt-in) is LAPACK's partial-pivoting algorithm written out
    # on scalars: a spiking HH run (stiff upstrokes) agrees with the default "lu" to
    # rounding, spikes included, and "lu" stays the default (its results unchanged).
    model, current = scjax.HodgkinHuxley(), jnp.full(1500, 10.0)
    runs = [
        scjax.simulate(model, current, 0.02, solver=solver, spikes="count")
        for solver in (cls(), cls(linear_solve="elimination"))
    ]
    assert cls().linear_solve == "lu"
    assert int(runs[0].spike_count) == int(runs[1].spike_count) >= 2
    np.testing.assert_allclose(np.asarray(runs[1].y), np.asarray(runs[0].y), rtol=0, atol=1e-10)
    # Adaptive, with ∂f/∂t (a time-dependent field), inside diffrax.diffeqsolve.
    term = diffrax.ODETerm(lambda t, y, args: jnp.array([-y[0] + jnp.sin(t), y[0] - 3 * y[1]]))
    solutions = [
        diffrax.diffeqsolve(
            term,
            solver,
            0.0,
            2.0,
            0.1,
            jnp.array([1.0, 0.0]),
            stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-9),
        )  # fmt: skip
        for solver in (cls(), cls(linear_solve="elimination"))
    ]
    assert int(solutions[0].stats["num_steps"]) == int(solutions[1].stats["num_steps"])
    np.testing.assert_allclose(solutions[1].ys, solutions[0].ys, rtol=1e-13)


def test_unknown_linear_solve_is_refused():
    with pytest.raises(ValueError, match="linear_solve must be one of \\('lu', 'elimination'\\)"):
        scjax.solvers.RosenbrockEuler(linear_solve="qr")
