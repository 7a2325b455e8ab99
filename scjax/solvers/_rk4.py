"""Classic fourth-order Runge–Kutta."""

import diffrax

from .._custom_types import State
from ._base import AbstractFixedStepSolver


class RK4(AbstractFixedStepSolver):
    """The classic 4-stage Runge–Kutta method (Kutta 1901):

        k₁ = f(t₀, y₀), k₂ = f(t₀ + h/2, y₀ + h k₁/2), k₃ = f(t₀ + h/2, y₀ + h k₂/2),
        k₄ = f(t₀ + h, y₀ + h k₃),   y₁ = y₀ + h (k₁ + 2k₂ + 2k₃ + k₄)/6.

    Order 4, four stages, explicit, no embedded error estimate (fixed step only; diffrax's
    adaptive controllers refuse it). Opt-in for `HodgkinHuxley(integrator="rk4")`; also the
    integrator every native library implements.
    """

    def order(self, terms):
        return 4

    def step(self, terms, t0, t1, y0: State, args, solver_state, made_jump):
        del solver_state, made_jump
        h = terms.contr(t0, t1)
        half = 0.5 * h
        k1 = terms.vf(t0, y0, args)
        k2 = terms.vf(t0 + half, y0 + half * k1, args)
        k3 = terms.vf(t0 + half, y0 + half * k2, args)
        k4 = terms.vf(t0 + h, y0 + h * k3, args)
        y1 = y0 + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return y1, None, dict(y0=y0, y1=y1), None, diffrax.RESULTS.successful
