"""The result containers of the dynamical analyses: host values (NumPy arrays) in
`eqx.Module`s, so each result is a pytree and prints its fields."""

import equinox as eqx
import numpy as np
from jaxtyping import Complex, Float

from ._classify import centre_tolerance


class FixedPoint(eqx.Module):
    """A fixed point found by `fixed_points`.

    Fields:
        state: `y*`, shape `[n_state]`.
        current: the constant current it belongs to.
        eigenvalues: of the Jacobian at `y*`, by decreasing real part.
        kind: one of `KINDS` ("stable node", "saddle", ...).
    """

    state: Float[np.ndarray, " n_state"]
    current: float
    eigenvalues: Complex[np.ndarray, " n_state"]
    kind: str = eqx.field(static=True)

    @property
    def stable(self) -> bool:
        return self.kind in ("stable node", "stable focus")

    @property
    def n_unstable(self) -> int:
        """Number of eigenvalues with positive real part (the unstable dimension)."""
        lam = self.eigenvalues
        return int(np.sum(np.real(lam) > centre_tolerance(lam)))


class Nullclines(eqx.Module):
    """Nullclines of a 2-D model, by state component: `lines[name]` is a list of polylines,
    each an array `[P, 2]` of `(x, y)` points (state 0 on x, state 1 on y) where
    d(name)/dt = 0. Points lie on the nullcline to machine precision; a closed loop repeats
    its first point at the end."""

    state_names: tuple[str, str] = eqx.field(static=True)
    current: float
    lines: dict[str, list[Float[np.ndarray, "P 2"]]]


class Bifurcation(eqx.Module):
    """A codimension-one bifurcation of the fixed points along the current.

    Fields:
        kind: `"hopf"` (a complex pair crosses the imaginary axis) or `"saddle-node"`
            (a real eigenvalue crosses zero; two fixed points merge and vanish).
        current: where it happens, refined to ~1e-10 (bisection for Hopf, Newton on the
            fold system for saddle-node).
        state: the fixed point there.
        eigenvalues: of the Jacobian there (for Hopf, ±iω with ω the onset angular
            frequency in rad/ms).
    """

    kind: str = eqx.field(static=True)
    current: float
    state: Float[np.ndarray, " n_state"]
    eigenvalues: Complex[np.ndarray, " n_state"]


class BifurcationScan(eqx.Module):
    """Result of `bifurcation_scan`.

    Fields:
        currents: the scanned currents `[C]`.
        fixed_points: per current, the list of `FixedPoint`s (sorted by V).
        bifurcations: the located Hopf and saddle-node points, by current.
        v_min, v_max: `[C]` the simulated min / max of V after the transient (the
            limit-cycle envelope where the model oscillates; equal to V* at a stable rest);
            None when no simulation was asked for.
    """

    currents: Float[np.ndarray, " C"]
    fixed_points: list[list[FixedPoint]]
    bifurcations: list[Bifurcation]
    v_min: Float[np.ndarray, " C"] | None = None
    v_max: Float[np.ndarray, " C"] | None = None

    def hopf_currents(self) -> list[float]:
        return [b.current for b in self.bifurcations if b.kind == "hopf"]

    def saddle_node_currents(self) -> list[float]:
        return [b.current for b in self.bifurcations if b.kind == "saddle-node"]
