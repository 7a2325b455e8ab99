"""Explicit Euler."""

import diffrax

from .._custom_types import State
from ._base import AbstractFixedStepSolver


class Euler(AbstractFixedStepSolver):
    """Explicit (forward) Euler: y₁ = y₀ + h f(t₀, y₀).

    Order 1, one stage, no error estimate (fixed step only). Stable for the test equation only
    while |1 + hλ| ≤ 1, so it diverges on stiff runs — the reason `RosenbrockEuler` exists.
    The historical default integrator of `HodgkinHuxley`, `AdEx`, `LIF`, `FitzHughNagumo` and
    `MorrisLecar` (Euler 1768, *Institutionum calculi integralis*).
    """

    def order(self, terms):
        return 1

    def step(self, terms, t0, t1, y0: State, args, solver_state, made_jump):
        del solver_state, made_jump
        h = terms.contr(t0, t1)
        y1 = y0 + h * terms.vf(t0, y0, args)
        return y1, None, dict(y0=y0, y1=y1), None, diffrax.RESULTS.successful
