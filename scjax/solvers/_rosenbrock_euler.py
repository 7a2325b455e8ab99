"""Linearly implicit (Rosenbrock) Euler."""

from typing import ClassVar

import diffrax
import jax.numpy as jnp

from .._custom_types import State
from ._base import AbstractRosenbrockSolver, linearise


class RosenbrockEuler(AbstractRosenbrockSolver):
    """Linearly implicit Euler (the one-stage Rosenbrock method, Rosenbrock 1963):

        (I − h J) k = f(t₀, y₀) + h ∂f/∂t(t₀, y₀),   y₁ = y₀ + h k,   J = ∂f/∂y(t₀, y₀).

    Order 1, one stage plus one Jacobian and one n×n linear solve per step. L-stable on the
    linear test equation, so it stays bounded at step sizes where `Euler` diverges (stiff
    Hodgkin–Huxley or AdEx runs). Opt-in by `integrator="rosenbrock"`.

    Its error estimate (for use with `diffrax.PIDController`) compares y₁ with the explicit
    Euler step y₀ + h f(t₀, y₀); both are first order, so the estimate is O(h²).
    """

    #: Diagonal coefficient of W = I − γ h J.
    gamma: ClassVar[float] = 1.0
    #: Largest γ·dt·(upstroke rate) `scjax.simulate` accepts on an explosive upstroke: the
    #: pole of W (past it the step runs backwards).
    upstroke_limit: ClassVar[float] = 1.0

    def order(self, terms):
        return 1

    def error_order(self, terms):
        return 2

    def step(self, terms, t0, t1, y0: State, args, solver_state, made_jump):
        del solver_state, made_jump
        h = terms.contr(t0, t1)
        f0, jac, f_t = linearise(terms, t0, y0, args)
        w = jnp.eye(y0.shape[-1], dtype=jac.dtype) - h * jac
        k = jnp.linalg.solve(w, f0 + h * f_t)
        y1 = y0 + h * k
        y_error = h * (k - f0)
        return y1, y_error, dict(y0=y0, y1=y1), None, diffrax.RESULTS.successful
