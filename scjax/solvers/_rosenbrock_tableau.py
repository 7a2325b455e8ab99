"""The coefficients of a Rosenbrock method, checked against its order conditions at import."""

import dataclasses
import functools
import itertools
import math

import numpy as np

#: Order conditions hold to rounding of the published 16-digit coefficients (Rodas5P's
#: residuals are ≤ 1e-14 with entries of C up to 112); a wrong coefficient misses by ≫ 1e-6.
_ORDER_ATOL = 1e-10


@dataclasses.dataclass(frozen=True)
class RosenbrockTableau:
    """An s-stage Rosenbrock method in the Hairer–Wanner transformed ("W") form
    (Hairer & Wanner 1996, *Solving ODEs II*, §IV.7, eqs. 7.23–7.25), the form every scjax
    Rosenbrock method is written in and the one generic step
    (`AbstractRosenbrockSolver.step`) runs:

        (I/(γh) − J) uᵢ = f(t₀ + cᵢh, Yᵢ) + Σⱼ₍ⱼ<ᵢ₎ (Cᵢⱼ/h) uⱼ + dᵢ h ∂f/∂t,
        Yᵢ = y₀ + Σⱼ₍ⱼ<ᵢ₎ aᵢⱼ uⱼ,
        y₁ = y₀ + Σᵢ bᵢ uᵢ,                           (`b_sol`)
        y₁ − ŷ₁ = Σᵢ eᵢ uᵢ + h Σᵢ ēᵢ f(t₀ + cᵢh, Yᵢ),  (`b_error`, `b_error_f`)

    with J = ∂f/∂y and ∂f/∂t at (t₀, y₀): one LU factorisation of I/(γh) − J per step.
    The ēᵢ (`b_error_f`) are zero for a Rosenbrock embedded pair; they let an *explicit*
    embedded solution enter (the linearly implicit Euler's error estimate is the difference
    from explicit Euler, u₁ − h f(t₀, y₀)).

    Checked on construction: shapes, strictly lower triangular `a` and `c_mat`, γ > 0, and —
    through the untransformed coefficients Γ = (I/γ − C)⁻¹, α = aΓ, b = b_sol·Γ
    (HW eq. 7.24) — the consistency conditions cᵢ = Σⱼ αᵢⱼ and dᵢ = Σⱼ Γᵢⱼ (which make the
    method invariant under autonomisation, so the autonomous conditions suffice) and every
    order condition up to `order` (of y₁) and `embedded_order` (of ŷ₁): Σ bⱼ Φⱼ(τ) = 1/τ!
    over rooted trees τ, where Φ takes αᵢⱼ + Γᵢⱼ (diagonal included) across a vertex with
    one child and αᵢⱼ across a vertex with several (HW §IV.7, Table 7.1).
    """

    gamma: float
    a: np.ndarray  # [s, s] strictly lower triangular
    c_mat: np.ndarray  # [s, s] strictly lower triangular (the Cᵢⱼ)
    c: np.ndarray  # [s] stage times
    d: np.ndarray  # [s] weights of h ∂f/∂t
    b_sol: np.ndarray  # [s]
    b_error: np.ndarray  # [s]
    order: int
    embedded_order: int
    b_error_f: np.ndarray | None = None  # [s]; None: no explicit part in the error estimate

    def __post_init__(self):
        self._check_shapes()
        gamma_mat = np.linalg.inv(np.eye(self.num_stages) / self.gamma - self.c_mat)
        alpha = self.a @ gamma_mat
        for name, got, want in (
            ("c", self.c, alpha.sum(axis=1)),
            ("d", self.d, gamma_mat.sum(axis=1)),
        ):
            if not np.allclose(got, want, rtol=0.0, atol=_ORDER_ATOL):
                raise ValueError(f"{name} = {got} is inconsistent with a, c_mat: expected {want}")
        self._check_order_conditions(gamma_mat, alpha)

    def _check_shapes(self) -> None:
        """γ > 0, the stage matrices strictly lower triangular, one weight per stage, and a
        non-zero error estimate."""
        s = self.c.shape[0]
        if not (math.isfinite(self.gamma) and self.gamma > 0):
            raise ValueError(f"gamma must be finite and > 0 (W = I/(γh) − J); got {self.gamma}")
        for name in ("a", "c_mat"):
            m = getattr(self, name)
            if m.shape != (s, s) or np.any(np.triu(m) != 0):
                raise ValueError(f"{name} must be strictly lower triangular [{s}, {s}]")
        for name in ("c", "d", "b_sol", "b_error", "b_error_f"):
            v = getattr(self, name)
            if v is not None and v.shape != (s,):
                raise ValueError(f"{name} must have one entry per stage ({s}); got {v.shape}")
        if not np.any(self.b_error != 0.0):
            raise ValueError("b_error is all zero: the method would have no error estimate")
        if self.b_error_f is not None and not np.any(self.b_error_f != 0.0):
            raise ValueError("b_error_f is all zero: pass None (no explicit embedded part)")

    def _check_order_conditions(self, gamma_mat, alpha) -> None:
        """The B-series conditions of every tree up to the claimed orders (of the solution
        and of the embedded method)."""
        s = self.num_stages
        b = self.b_sol @ gamma_mat
        b_hat = (self.b_sol - self.b_error) @ gamma_mat
        b_hat_f = np.zeros(s) if self.b_error_f is None else -self.b_error_f
        beta = alpha + gamma_mat
        for tree in _trees_up_to(max(self.order, self.embedded_order)):
            n = _size(tree)
            phi = _weights(tree, alpha, beta)
            psi = _weights_explicit(tree, alpha, beta)
            for label, order, value in (
                ("order", self.order, b @ phi),
                ("embedded_order", self.embedded_order, b_hat @ phi + b_hat_f @ psi),
            ):
                if n <= order and abs(value - 1.0 / _density(tree)) > _ORDER_ATOL:
                    raise ValueError(
                        f"{label} = {order} claimed, but the condition of the order-{n} tree "
                        f"{tree} fails: {value!r} != 1/{_density(tree)}"
                    )

    @property
    def num_stages(self) -> int:
        return self.c.shape[0]

    @property
    def stiffly_accurate(self) -> bool:
        """y₁ = Yₛ + uₛ (b_sol = last row of `a`, then 1): the step then reuses the last stage
        argument instead of summing y₁ afresh."""
        return bool(np.all(self.b_sol[:-1] == self.a[-1, :-1]) and self.b_sol[-1] == 1.0)


# --- rooted trees and elementary weights (Butcher; Hairer, Nørsett & Wanner I, §II.2) --------
# A rooted tree is the sorted tuple of its children's subtrees; the one-vertex tree is ().


@functools.cache
def _trees(n: int) -> tuple[tuple, ...]:
    """All rooted trees with n vertices (1, 1, 2, 4, 9, 20, … of them)."""
    if n == 1:
        return ((),)
    out = set()
    # Children: a multiset of trees whose sizes add up to n − 1.
    for sizes in _partitions(n - 1):
        for kids in itertools.product(*(_trees(k) for k in sizes)):
            out.add(tuple(sorted(kids)))
    return tuple(sorted(out))


def _partitions(n: int, largest: int | None = None) -> list[tuple[int, ...]]:
    largest = n if largest is None else largest
    if n == 0:
        return [()]
    return [(k, *rest) for k in range(min(n, largest), 0, -1) for rest in _partitions(n - k, k)]


def _trees_up_to(order: int) -> list[tuple]:
    return [t for n in range(1, order + 1) for t in _trees(n)]


def _size(tree: tuple) -> int:
    return 1 + sum(_size(child) for child in tree)


def _density(tree: tuple) -> int:
    """τ! = |τ| · Π τ_child!, so that the exact solution's weight is 1/τ!."""
    return _size(tree) * math.prod(_density(child) for child in tree)


def _weights(tree: tuple, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Φᵢ(τ) of the stage increments kᵢ: J enters linearly, so a vertex with one child
    carries αᵢⱼ + Γᵢⱼ (β) and one with several children αᵢⱼ."""
    if not tree:
        return np.ones(alpha.shape[0])
    if len(tree) == 1:
        return beta @ _weights(tree[0], alpha, beta)
    return np.prod([alpha @ _weights(child, alpha, beta) for child in tree], axis=0)


def _weights_explicit(tree: tuple, alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Weights of h f(Yᵢ) (no J term at the root): what `b_error_f` multiplies."""
    if not tree:
        return np.ones(alpha.shape[0])
    return np.prod([alpha @ _weights(child, alpha, beta) for child in tree], axis=0)
