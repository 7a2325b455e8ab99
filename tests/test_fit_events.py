"""`scjax.fit(events="in_step")` (issue 12): spike-time losses on the spike times located
inside the step, differentiated exactly (no surrogate).

One problem throughout: Izhikevich RS under I = 10 for 120 ms (4 spikes), RK4 at dt = 0.25 ms,
(a, d) from (0.022, 7.2); the target is the adaptive reference's spike train
(`scjax.adaptive.solve`, rtol 1e-12). The in-step fit compiles once (module fixture)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import scjax
from scjax import losses
from scjax.adaptive import solve as reference_solve
from scjax.solvers import RK4

SPAN, CURRENT, DT = 120.0, 10.0, 0.25
N_STEPS = int(round(SPAN / DT))
TRUE = {"a": 0.02, "d": 8.0}
GUESS = {"a": 0.022, "d": 7.2}
TIGHT = {"rtol": 1e-12, "atol": 1e-13, "max_steps": 10**6}
GUESS_P = jnp.array([GUESS["a"], GUESS["d"]])
LBFGS = optax.lbfgs()  # one object: fits with it share the compiled program


def _izh(a, d):
    return scjax.Izhikevich.preset("RS", a=a, d=d)


@pytest.fixture(scope="module")
def reference_times():
    times = reference_solve(_izh(**TRUE), (0.0, SPAN), CURRENT, **TIGHT).spike_times_array()
    assert times.size == 4
    return times


def _located_times(p):
    """The located spike times (times, mask) of the in-step run at (a, d) = p."""
    tr = scjax.simulate(
        _izh(p[0], p[1]),
        jnp.full(N_STEPS, CURRENT),
        DT,
        solver=RK4(),
        events="in_step",
        spikes="times",
        max_spikes=16,  # fit's default for a 4-spike target: 2·4 + 8
    )
    return losses.located_spike_times(tr)


def _located_losses(p, target):
    """[spike_time_mse, van_rossum_times] assembled by hand from the public pieces."""
    times, mask = _located_times(p)
    target = jnp.asarray(target)
    ones = jnp.ones(target.shape)
    t_end = N_STEPS * DT
    return jnp.stack(
        [
            losses.spike_time_mse(times, mask, target, ones, t_end),
            losses.van_rossum_times(times, mask, target, ones, tau=10.0),
        ]
    )


located_losses = jax.jit(_located_losses)  # compiled once for the module


def test_in_step_spike_time_loss_gradient_equals_central_difference(reference_times):
    def value(p):
        return located_losses(p, reference_times)

    # Reverse mode, as fit differentiates.
    jac = np.asarray(jax.jit(jax.jacrev(lambda p: _located_losses(p, reference_times)))(GUESS_P))
    assert np.all(np.abs(jac) > 0.1)  # a real slope in both directions, no surrogate
    for j in range(2):
        h = 1e-6 * float(GUESS_P[j])
        e = jnp.zeros(2).at[j].set(h)
        fd = (np.asarray(value(GUESS_P + e)) - np.asarray(value(GUESS_P - e))) / (2 * h)
        # measured: agreement to 1e-10 (h = 1e-6 relative; 2e-8 at 1e-5: the O(h²) term)
        np.testing.assert_allclose(jac[:, j], fd, rtol=1e-7)


@pytest.fixture(scope="module")
def in_step_fit(reference_times):
    return scjax.fit(
        _izh(**GUESS),
        params=("a", "d"),
        current=np.full(N_STEPS, CURRENT),
        dt=DT,
        target=reference_times,
        loss="spike_times",
        events="in_step",
        solver=RK4(),
        optimizer=LBFGS,
        steps=25,
    )


def test_in_step_fit_recovers_parameters_from_reference_spike_times(in_step_fit, reference_times):
    result = in_step_fit
    for name, true in TRUE.items():
        # measured: 1.6e-5 (a), 3.9e-5 (d): RK4's O(dt⁴) spike-time error at dt = 0.25
        assert result.params[name] == pytest.approx(true, rel=2e-4), result.params
    # The fitted model, re-solved by the adaptive reference, fires on the target's times.
    fitted = reference_solve(result.model, (0.0, SPAN), CURRENT, **TIGHT).spike_times_array()
    np.testing.assert_allclose(fitted, reference_times, atol=0.01)
    # The fit's loss is the documented one: at the guess, the hand-assembled loss.
    at_guess = located_losses(GUESS_P, reference_times)[0]
    assert result.loss_history[0, 0] == pytest.approx(float(at_guess), rel=1e-12)
    assert result.loss < 1e-6 * result.loss_history[0, 0]


def test_end_of_step_fit_fails_at_the_same_dt(reference_times):
    # The historical run at dt = 0.25: spikes at the end of the step that crossed (first
    # order in dt), the van Rossum loss on the grid through the surrogate.
    result = scjax.fit(
        _izh(**GUESS),
        params=("a", "d"),
        current=np.full(N_STEPS, CURRENT),
        dt=DT,
        target=reference_times,
        loss="van_rossum",
        solver=RK4(),
        optimizer=LBFGS,
        steps=25,
    )
    # measured: d = 14.5 (81 % off), a 2 % off
    assert abs(result.params["d"] / TRUE["d"] - 1) > 0.2, result.params


def test_located_van_rossum_is_the_closed_form_distance(reference_times):
    # Against scjax.analysis's own implementation of the closed form, on the same times.
    times, mask = _located_times(GUESS_P)
    located = np.asarray(times)[np.asarray(mask) > 0]
    assert located.size == 4
    d = scjax.analysis.van_rossum_distance(
        jnp.asarray(located), located.size, jnp.asarray(reference_times), 4, tau=10.0
    )
    assert float(located_losses(GUESS_P, reference_times)[1]) == pytest.approx(
        float(d) ** 2, rel=1e-12
    )


def test_spike_time_mse_pads_missing_and_extra_spikes_with_the_window_end():
    t_end = 100.0
    target, ones = jnp.array([10.0, 40.0, 70.0]), jnp.ones(3)
    # One spike missing: its residual is t_end − 70; divided by the target's 3 spikes.
    times, mask = jnp.array([11.0, 42.0, 0.0, 0.0]), jnp.array([1.0, 1.0, 0.0, 0.0])
    expected = (1.0**2 + 2.0**2 + 30.0**2) / 3
    assert float(losses.spike_time_mse(times, mask, target, ones, t_end)) == expected
    # One extra spike at 90 ms: compared with t_end; its gradient pushes it out of the window.
    times, mask = jnp.array([10.0, 40.0, 70.0, 90.0]), jnp.ones(4)
    value, g = jax.value_and_grad(losses.spike_time_mse)(times, mask, target, ones, t_end)
    assert float(value) == pytest.approx(100.0 / 3)
    np.testing.assert_allclose(g, [0.0, 0.0, 0.0, 2 * (90.0 - 100.0) / 3])

    # Continuous where a count changes at the window end: the extra spike at t_end − ε.
    def extra_at(s):
        times = jnp.array([10.0, 40.0, 70.0, s])
        return float(losses.spike_time_mse(times, jnp.ones(4), target, ones, t_end))

    assert extra_at(t_end - 1e-6) == pytest.approx(0.0, abs=1e-12)


def test_in_step_trace_loss_and_sweeps_use_the_in_step_run():
    # LIF, two sweeps with different counts (8 and 14 spikes), a [K, M] target padded per sweep:
    # the fit's loss at the start is the mean of the per-sweep hand-assembled losses.
    lif = scjax.LIF(tau_m=12.0)
    dt, n = 0.5, 200
    current = np.stack([np.full(n, 22.0), np.full(n, 30.0)])
    true = scjax.LIF(tau_m=10.0)
    runs = [
        scjax.simulate(true, c, dt, solver=RK4(), events="in_step", spikes="times") for c in current
    ]
    targets = [r.spike_times() for r in runs]
    assert [t.size for t in targets] == [8, 14]

    def hand(c, tgt):
        tr = scjax.simulate(
            lif, c, dt, solver=RK4(), events="in_step", spikes="times", max_spikes=36
        )  # fit's default capacity: 2·14 + 8
        t, m = losses.located_spike_times(tr)
        return float(losses.spike_time_mse(t, m, tgt, np.ones(tgt.size), tr.t[-1]))

    result = scjax.fit(
        lif,
        params=("tau_m",),
        current=current,
        dt=dt,
        target=targets,
        loss="spike_times",
        events="in_step",
        solver=RK4(),
        optimizer=optax.sgd(1e-9),
        steps=1,
    )
    expected = np.mean([hand(c, t) for c, t in zip(current, targets)])
    assert result.loss_history[0, 0] == pytest.approx(expected, rel=1e-12)

    # A trace loss with in-step events: the fit steps along the exact derivative of the
    # in-step run's trace_mse. One SGD step of 1e-6 in p itself (Affine(1)): p₁ = p₀ − 1e-6·L'.
    recorded = scjax.simulate(true, current[0], dt, solver=RK4(), events="in_step")

    @jax.jit
    def trace_loss(tau):
        run = scjax.simulate(scjax.LIF(tau_m=tau), current[0], dt, solver=RK4(), events="in_step")
        return losses.trace_mse(run, recorded)

    step = scjax.fit(
        scjax.LIF(tau_m=10.5),
        params={"tau_m": scjax.fitting.Affine(1.0)},
        current=current[0],
        dt=dt,
        target=recorded,
        loss="trace_mse",
        events="in_step",
        solver=RK4(),
        optimizer=optax.sgd(1e-6),
        steps=1,
    )
    assert step.loss_history[0, 0] == pytest.approx(float(trace_loss(10.5)), rel=1e-12)
    slope = (10.5 - step.params["tau_m"]) / 1e-6
    fd = (float(trace_loss(10.5 + 1e-5)) - float(trace_loss(10.5 - 1e-5))) / 2e-5
    assert abs(fd) > 1.0  # the in-step reset carries the derivative (no surrogate)
    assert slope == pytest.approx(fd, rel=1e-6)


# --- the default is the historical fit, bit for bit ----------------------------------------

# `scjax.fit` on main before `events` existed (commit 87390c8), same inputs, this machine.
_MAIN_VAN_ROSSUM = [
    0.2233791671701965,
    0.18303489732109723,
    0.10513479520471736,
    0.01990243931917296,
    0.09665258407112506,
    0.15903465720425625,
]
_MAIN_TRACE = [14.9750886154753, 17.223610806833314, 19.987926453141263, 20.39195200028036]


def test_end_of_step_default_gives_the_numbers_of_the_historical_fit():
    dt = 0.1
    current = np.concatenate([np.zeros(100), np.full(900, 700.0)])
    v_peak = -50.4 + 5 * 2.0
    true = scjax.AdEx(v_peak=v_peak)
    target = scjax.simulate(true, current, dt)
    guess = scjax.AdEx(v_peak=v_peak, a=true.a * 1.3, b=true.b * 0.8)
    kw = dict(current=current, dt=dt, params=("a", "b"), optimizer=optax.adam(0.05))
    vr = scjax.fit(guess, target=target, loss="van_rossum", steps=6, **kw)
    np.testing.assert_allclose(vr.loss_history[0], _MAIN_VAN_ROSSUM, rtol=1e-12)
    trace = scjax.fit(guess, target=np.asarray(target.v), steps=4, **kw)
    np.testing.assert_allclose(trace.loss_history[0], _MAIN_TRACE, rtol=1e-12)
    # Spelled out, the default is the same program.
    explicit = scjax.fit(
        guess,
        target=target,
        loss="van_rossum",
        steps=6,
        events="end_of_step",
        surrogate="fast_sigmoid",
        **kw,
    )
    np.testing.assert_array_equal(explicit.loss_history, vr.loss_history)


# --- arguments checked at the boundary -----------------------------------------------------


def test_bad_event_arguments_raise_value_errors_naming_them(reference_times):
    kw = dict(params=("a",), current=np.full(40, CURRENT), dt=DT, steps=1)
    izh = _izh(**GUESS)
    times = reference_times[:1]
    cases = [
        (dict(events="sometimes", target=times, loss="van_rossum"), "events must be one of"),
        (
            dict(events="in_step", surrogate="sigmoid", target=times, loss="spike_times"),
            "surrogate must be None",
        ),
        (dict(events="in_step", target=1.0, loss="spike_count"), "cannot be fitted with events"),
        (dict(events="in_step", target=1.0, loss="firing_rate"), "cannot be fitted with events"),
        (dict(target=times, loss="spike_times"), "loss='spike_times' needs events='in_step'"),
        (dict(target=times, loss="van_rossum", max_spikes=8), "max_spikes = 8 sizes"),
        (
            dict(events="in_step", target=times, loss="spike_times", max_spikes=0),
            "max_spikes must be a positive int",
        ),
        (
            dict(events="in_step", target=np.array([1.0, 2.0]), loss="spike_times", max_spikes=1),
            "max_spikes = 1 is below the target's 2 spikes",
        ),
        (
            dict(events="in_step", target=np.array([5.0, 20.0]), loss="spike_times"),
            r"target spike times must lie in \(0.0, 10.0\]",
        ),
        (
            dict(events="in_step", target=np.array([5.0, 2.0]), loss="van_rossum"),
            "target spike times must be sorted",
        ),
        (
            dict(events="in_step", target=times[:0], loss="trace_mse", max_spikes=4),
            "loss='trace_mse' does not use it",
        ),
    ]
    for extra, message in cases:
        with pytest.raises(ValueError, match=message):
            scjax.fit(izh, **kw, **extra)
    with pytest.raises(ValueError, match="events='in_step' applies to the simulations"):
        scjax.fit(izh, params=("a",), loss=lambda m: m.a**2, events="in_step", steps=1)
    with pytest.raises(ValueError, match="needs a continuous-time model"):
        scjax.fit(
            scjax.models.FixedPointLIF(),
            params=("tau_m",),
            current=np.full(10, 1.0),
            dt=scjax.models.FixedPointLIF().dt,
            target=np.zeros(11),
            events="in_step",
            steps=1,
        )
