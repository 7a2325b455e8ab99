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
import jax.scipy.linalg as jsl
import numpy as np

from .._custom_types import Scalar, ScalarLike, State
from . import _elimination
from ._rosenbrock_tableau import RosenbrockTableau

#: The values of `AbstractRosenbrockSolver.linear_solve`.
LINEAR_SOLVES: tuple[str, ...] = ("lu", "elimination")


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


class _TableauGamma:
    """`solver.gamma` and `Cls.gamma` read the tableau's γ (one source; `scjax.simulate`'s step
    check and the docs use it)."""

    def __get__(self, obj, cls) -> float:
        return cls.tableau.gamma


class AbstractRosenbrockSolver(diffrax.AbstractAdaptiveSolver):
    """A linearly implicit (Rosenbrock) method, given by its `RosenbrockTableau`: stage
    equations (I/(γh) − J) uᵢ = rhsᵢ with the exact Jacobian J = ∂f/∂y (`jax.jacfwd`) and
    time derivative ∂f/∂t (`jax.jvp`) at (t₀, y₀), one LU factorisation per step.
    `step` is the one generic step of the family; a method declares only `tableau`,
    `error_order` and `upstroke_limit`.

    No nonlinear solve is needed, so this is an `AbstractAdaptiveSolver` and not an
    `AbstractImplicitSolver`. J is part of the scheme and is *not* `stop_gradient`-ed, so
    reverse-mode gradients of a trajectory are exact (they use second derivatives of f).
    The state must be a 1-D array (every scjax model's is).

    Attributes:
        linear_solve: how W is factorised and the stages solved. `"lu"` (default, the
            historical results): `jax.scipy.linalg.lu_factor` / `lu_solve` (LAPACK's
            `getrf` on a CPU, cuSOLVER on a GPU) on J from `jax.jacfwd`. `"elimination"`
            (opt-in): the same partial-pivoting elimination written out on the n² entries
            (`_elimination`), J's columns from n `jax.jvp`s: elementwise, so a batch's
            factorisations fuse into the step and the step runs inside the Pallas kernel
            (`simulate_batch(loop="pallas")`); equal to `"lu"`'s to rounding.
    """

    linear_solve: str = eqx.field(static=True, default="lu", kw_only=True)

    def __check_init__(self):
        if self.linear_solve not in LINEAR_SOLVES:
            raise ValueError(
                f"linear_solve must be one of {LINEAR_SOLVES}, got {self.linear_solve!r}"
            )

    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar[Callable[..., diffrax.LocalLinearInterpolation]] = (
        diffrax.LocalLinearInterpolation
    )
    tableau: eqx.AbstractClassVar[RosenbrockTableau]
    #: Diagonal coefficient γ of the method (W = I/(γh) − J), read from `tableau`.
    gamma: ClassVar[_TableauGamma] = _TableauGamma()
    #: Largest γ·dt·(upstroke rate) `scjax.simulate` accepts on an explosive upstroke
    #: (`model.upstroke_rate()`). 1.0 is the pole of W, past which any linearly implicit step
    #: runs backwards; methods that stall earlier lower it (ROS2: 0.45, measured).
    upstroke_limit: ClassVar[float] = 1.0

    def order(self, terms):
        return self.tableau.order

    def init(self, terms, t0, t1, y0, args):
        return None

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)

    def step(self, terms, t0, t1, y0: State, args, solver_state, made_jump):
        del solver_state, made_jump
        tab = self.tableau
        h = terms.contr(t0, t1)
        f0, f_t, stage_solve = self._linearised(terms, t0, y0, args, h)
        us, fs = [], []
        arg = y0
        for i in range(tab.num_stages):
            if i == 0:  # a and c_mat are strictly lower triangular and c₀ = 0: Y₁ = y₀.
                f_i = f0
            else:
                arg = _plus(y0, tab.a[i, :i], us)
                f_i = terms.vf(t0 + float(tab.c[i]) * h, arg, args)
            rhs = _plus(f_i, tab.c_mat[i, :i], us, h)
            if tab.d[i] != 0.0:
                rhs = rhs + (float(tab.d[i]) * h) * f_t
            us.append(stage_solve(rhs))
            fs.append(f_i)
        if tab.stiffly_accurate:  # y₁ = Yₛ + uₛ: the last stage argument is already summed.
            y1 = arg + us[-1]
        else:
            y1 = _plus(y0, tab.b_sol, us)
        y_error = _lincomb(tab.b_error, us)
        if tab.b_error_f is not None:
            y_error = y_error + h * _lincomb(tab.b_error_f, fs)
        return y1, y_error, dict(y0=y0, y1=y1), None, diffrax.RESULTS.successful

    def _linearised(self, terms, t0, y0: State, args, h):
        """f(t₀, y₀), ∂f/∂t(t₀, y₀) and `solve(rhs)`: W⁻¹·rhs, W = I/(γh) − J factorised
        once (`linear_solve`)."""
        gamma = self.tableau.gamma
        if self.linear_solve == "lu":
            f0, jac, f_t = linearise(terms, t0, y0, args)
            w = jnp.eye(y0.shape[-1], dtype=jac.dtype) / (gamma * h) - jac
            lu = jsl.lu_factor(w)
            return f0, f_t, lambda rhs: jsl.lu_solve(lu, rhs)
        f0, columns, f_t = linearise_by_columns(terms, t0, y0, args)
        n = y0.shape[-1]
        diagonal = 1.0 / (gamma * h)
        w = [
            [diagonal - columns[j][i] if i == j else -columns[j][i] for j in range(n)]
            for i in range(n)
        ]
        factors = _elimination.factor(w)

        def solve(rhs):
            return jnp.stack(_elimination.solve(factors, [rhs[i] for i in range(n)]))

        return f0, f_t, solve


def _lincomb(coeffs: np.ndarray, vectors: list[State], h: Scalar | None = None) -> State:
    """Σⱼ cⱼ vⱼ (or Σⱼ (cⱼ/h) vⱼ) over the nonzero cⱼ, summed left to right: the order of
    Rodas5P's first, hand-written step, which this reproduces bit for bit in float64. The cⱼ
    enter as Python floats, weakly typed, so a float32 state stays float32 (a NumPy float64
    coefficient would promote it)."""
    out = None
    for c, v in zip(coeffs, vectors):
        if c == 0.0:
            continue
        if h is not None:
            term = (float(c) / h) * v
        else:
            term = v if c == 1.0 else float(c) * v
        out = term if out is None else out + term
    if out is None:
        raise ValueError("an all-zero weight vector has no linear combination")
    return out


def _plus(base: State, coeffs: np.ndarray, vectors: list[State], h: Scalar | None = None) -> State:
    """base + Σⱼ cⱼ vⱼ (the sum formed first, then added), or base if every cⱼ is zero."""
    return base + _lincomb(coeffs, vectors, h) if np.any(coeffs != 0.0) else base


def linearise(terms, t0: ScalarLike, y0: State, args) -> tuple[State, jax.Array, State]:
    """f(t₀, y₀), J = ∂f/∂y (shape [n, n]) and ∂f/∂t at (t₀, y₀)."""
    vf = lambda t, y: terms.vf(t, y, args)  # noqa: E731
    f0, f_t = jax.jvp(lambda t: vf(t, y0), (t0,), (jnp.ones_like(t0),))
    jac = jax.jacfwd(lambda y: vf(t0, y))(y0)
    return f0, jac, f_t


def linearise_by_columns(terms, t0: ScalarLike, y0: State, args) -> tuple[State, list, State]:
    """`linearise` with J as its n columns ∂f/∂y_j (each `[n]`), one `jax.jvp` each: no
    `[n, n]` array is formed, so the unstacked step (`simulation._unstack`) stays
    component-wise."""
    vf = lambda t, y: terms.vf(t, y, args)  # noqa: E731
    f0, f_t = jax.jvp(lambda t: vf(t, y0), (t0,), (jnp.ones_like(t0),))
    n = y0.shape[-1]
    basis = np.eye(n, dtype=jnp.result_type(y0))
    columns = [jax.jvp(lambda y: vf(t0, y), (y0,), (basis[j],))[1] for j in range(n)]
    return f0, columns, f_t
