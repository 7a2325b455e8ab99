"""Linearly implicit (Rosenbrock) Euler."""

from typing import ClassVar

import numpy as np

from ._base import AbstractRosenbrockSolver
from ._rosenbrock_tableau import RosenbrockTableau

#: One stage, γ = 1: (I/h − J) u = f₀ + h ∂f/∂t, y₁ = y₀ + u; error u − h f₀ (explicit Euler).
_ROSENBROCK_EULER_TABLEAU = RosenbrockTableau(
    gamma=1.0,
    a=np.zeros((1, 1)),
    c_mat=np.zeros((1, 1)),
    c=np.zeros(1),
    d=np.ones(1),
    b_sol=np.ones(1),
    b_error=np.ones(1),
    b_error_f=-np.ones(1),
    order=1,
    embedded_order=1,
)


class RosenbrockEuler(AbstractRosenbrockSolver):
    """Linearly implicit Euler (the one-stage Rosenbrock method, Rosenbrock 1963):

        (I − h J) k = f(t₀, y₀) + h ∂f/∂t(t₀, y₀),   y₁ = y₀ + h k,   J = ∂f/∂y(t₀, y₀),

    run in the transformed form u = h k, (I/h − J) u = f₀ + h ∂f/∂t, y₁ = y₀ + u
    (`RosenbrockTableau` with γ = 1, one stage).
    Order 1, one stage plus one Jacobian and one n×n linear solve per step. L-stable on the
    linear test equation, so it stays bounded at step sizes where `Euler` diverges (stiff
    Hodgkin–Huxley or AdEx runs). Opt-in by `integrator="rosenbrock"`.

    Its error estimate (for use with `diffrax.PIDController`) compares y₁ with the explicit
    Euler step y₀ + h f(t₀, y₀): y₁ − ŷ₁ = u − h f₀. Both are first order, so the estimate
    is O(h²) (`error_order` 2).
    """

    tableau: ClassVar[RosenbrockTableau] = _ROSENBROCK_EULER_TABLEAU
    #: Largest γ·dt·(upstroke rate) `scjax.simulate` accepts on an explosive upstroke: the
    #: pole of W (past it the step runs backwards).
    upstroke_limit: ClassVar[float] = 1.0

    def error_order(self, terms):
        return 2
