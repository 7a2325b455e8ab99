"""Rodas5P: empirical order on smooth problems, and a stiff problem against stored Radau values."""

import diffrax
import jax.numpy as jnp
import numpy as np

from scjax.solvers import Rodas5P


def test_order_five():
    # y₀' = cos(t)·y₀ (exercises ∂f/∂t), y₁' = −2t·y₁²: exact exp(sin t), 1/(1 + t²).
    term = diffrax.ODETerm(lambda t, y, a: jnp.stack([jnp.cos(t) * y[0], -2 * t * y[1] ** 2]))
    exact = np.array([np.exp(np.sin(2.0)), 1.0 / 5.0])
    hs = np.array([0.2, 0.1, 0.05, 0.025])
    errs = []
    for h in hs:
        sol = diffrax.diffeqsolve(
            term,
            Rodas5P(),
            0.0,
            2.0,
            jnp.asarray(h),
            jnp.array([1.0, 1.0]),
            stepsize_controller=diffrax.ConstantStepSize(),
        )
        errs.append(np.abs(np.asarray(sol.ys[-1]) - exact).max())
    slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    assert 4.7 < slope < 5.5, (slope, errs)


def test_van_der_pol_mu_1000_adaptive():
    # Stored reference: scipy Radau, rtol 1e-12, atol 1e-14, analytic Jacobian, y(3000).
    radau = np.array([-1.510606936744001e00, 1.178380000731143e-03])
    mu = 1000.0
    term = diffrax.ODETerm(lambda t, y, a: jnp.stack([y[1], mu * (1 - y[0] ** 2) * y[1] - y[0]]))
    sol = diffrax.diffeqsolve(
        term,
        Rodas5P(),
        0.0,
        3000.0,
        1e-6,
        jnp.array([2.0, 0.0]),
        stepsize_controller=diffrax.PIDController(rtol=1e-8, atol=1e-10),
        max_steps=20_000,
    )
    y = np.asarray(sol.ys[-1])
    np.testing.assert_allclose(y, radau, rtol=1e-6)
    # Stiffness: an explicit method would need ~1e6+ steps here; Rodas5P needs a few thousand.
    assert int(sol.stats["num_accepted_steps"]) < 5000


def test_upstroke_limit_separates_working_from_failing_steps():
    # Izhikevich RS, 200 ms at I = 10: 5 spikes (RK4 at dt = 0.002 agrees). Rodas5P as a
    # fixed-step method spikes correctly just below its upstroke limit; just above it the step
    # map loses spikes, and scjax.simulate refuses that dt.
    import pytest

    import scjax

    model = scjax.Izhikevich()
    scale = Rodas5P.gamma * float(model.upstroke_rate())
    ok_dt, bad_dt = 0.39 / scale, 0.44 / scale
    tr = scjax.simulate(model, jnp.full(int(200.0 / ok_dt), 10.0), ok_dt, solver=Rodas5P())
    assert int(tr.spike_count) == 5
    with pytest.raises(ValueError, match="upstroke"):
        scjax.simulate(model, jnp.full(10, 10.0), bad_dt, solver=Rodas5P())
    stalled = scjax.simulate(
        model,
        jnp.full(int(200.0 / bad_dt), 10.0),
        bad_dt,
        solver=Rodas5P(),
        check_step=False,
        throw=False,
    )
    assert int(stalled.spike_count) < 5
