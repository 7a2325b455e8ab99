r"""Dynamical analysis of any scjax model: Jacobians, fixed points, nullclines, bifurcation
scans and F–I curves (public namespace; the code lives in one private module per concept:
`_jacobian`, `_classify`, `_fixed_points`, `_nullclines`, `_bifurcation`, `_fi_curve`, with
the result types in `_results`).

Everything numerical is JAX (`jax.jacfwd` Jacobians, vmapped `optimistix.Newton` solves,
`optimistix.Bisection`, vmapped `scjax.simulate` runs) and jit-/vmap-able: `jacobian`,
`eigenvalues`, `solve_fixed_point`, `fi_curve`. The functions that return a *variable number*
of objects (`fixed_points`, `nullclines`, `bifurcation_scan`) run those kernels over a batch
of seeds, then deduplicate, classify and link on the host.

A fixed point $y^*$ of $\dot y = f(y, I)$ is classified by the eigenvalues $\lambda_k$ of the
Jacobian $J = \partial f / \partial y$ at $y^*$ (Strogatz 2015, *Nonlinear Dynamics and
Chaos*, §5–6; Izhikevich 2007, *Dynamical Systems in Neuroscience*, ch. 4): see `classify`.
"""

from ._bifurcation import bifurcation_scan as bifurcation_scan
from ._classify import KINDS as KINDS
from ._classify import classify as classify
from ._fi_curve import fi_curve as fi_curve
from ._fixed_points import fixed_points as fixed_points
from ._fixed_points import solve_fixed_point as solve_fixed_point
from ._jacobian import eigenvalues as eigenvalues
from ._jacobian import jacobian as jacobian
from ._nullclines import nullclines as nullclines
from ._results import (
    Bifurcation as Bifurcation,
)
from ._results import (
    BifurcationScan as BifurcationScan,
)
from ._results import (
    FixedPoint as FixedPoint,
)
from ._results import (
    Nullclines as Nullclines,
)

__all__ = [
    "KINDS",
    "Bifurcation",
    "BifurcationScan",
    "FixedPoint",
    "Nullclines",
    "bifurcation_scan",
    "classify",
    "eigenvalues",
    "fi_curve",
    "fixed_points",
    "jacobian",
    "nullclines",
    "solve_fixed_point",
]
