"""Shared machinery of scjax's one-step methods.

Every scjax solver is a `diffrax.AbstractSolver`, so the same object advances `scjax.simulate`'s
`lax.scan` loop (one `step` per current sample) and runs inside `diffrax.diffeqsolve`.
The step size `h` is the term's control `terms.contr(t0, t1)` (= t1 − t0 for an `ODETerm`).
"""

from collections.abc import Callable
from typing import ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp

from .._custom_types import ScalarLike, State


class AbstractFixedStepSolver(diffrax.AbstractSolver):
    """A method with no error estimate. `step` returns `y_error=None`, which diffrax's
    adaptive controllers refuse with "Cannot use adaptive step sizes with a solver that does
    not provide error estimates" — fixed-step solvers never run adaptively by accident."""

    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar[Callable[..., diffrax.LocalLinearInterpolation]] = (
        diffrax.LocalLinearInterpolation
    )

    def init(self, terms, t0, t1, y0, args):
        return None

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)


class AbstractRosenbrockSolver(diffrax.AbstractAdaptiveSolver):
    """A linearly implicit (Rosenbrock) method: stage equations (I − γ h J) kᵢ = rhsᵢ with the
    exact Jacobian J = ∂f/∂y (`jax.jacfwd`) and time derivative ∂f/∂t (`jax.jvp`) at (t₀, y₀).

    No nonlinear solve is needed, so this is an `AbstractAdaptiveSolver` and not an
    `AbstractImplicitSolver`. J is part of the scheme and is *not* `stop_gradient`-ed, so
    reverse-mode gradients of a trajectory are exact (they use second derivatives of f).
    The state must be a 1-D array (every scjax model's is).
    """

    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar[Callable[..., diffrax.LocalLinearInterpolation]] = (
        diffrax.LocalLinearInterpolation
    )
    gamma: eqx.AbstractClassVar[float]
    #: Largest γ·dt·(upstroke rate) `scjax.simulate` accepts on an explosive upstroke
    #: (`model.upstroke_rate()`). 1.0 is the pole of W, past which any linearly implicit step
    #: runs backwards; methods that stall earlier lower it (ROS2: 0.45, measured).
    upstroke_limit: ClassVar[float] = 1.0

    def init(self, terms, t0, t1, y0, args):
        return None

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)


def linearise(terms, t0: ScalarLike, y0: State, args) -> tuple[State, jax.Array, State]:
    """f(t₀, y₀), J = ∂f/∂y (shape [n, n]) and ∂f/∂t at (t₀, y₀)."""
    vf = lambda t, y: terms.vf(t, y, args)  # noqa: E731
    f0, f_t = jax.jvp(lambda t: vf(t, y0), (t0,), (jnp.ones_like(t0),))
    jac = jax.jacfwd(lambda y: vf(t0, y))(y0)
    return f0, jac, f_t
