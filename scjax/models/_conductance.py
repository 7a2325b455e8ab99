"""Conductance-based models: every state's derivative is linear in that state, the others frozen.

`scjax.solvers.ExponentialEuler` integrates the linear part of each component exactly; this
base declares what it needs from a model.
"""

import abc

import equinox as eqx

from .._custom_types import ScalarLike, State
from ._base import AbstractNeuronModel


class AbstractConductanceModel(AbstractNeuronModel):
    """A model whose every component obeys dyᵢ/dt = aᵢ − bᵢ·yᵢ, where the drift aᵢ and the
    rate bᵢ ≥ 0 may depend on t, the current and the *other* components (a conditionally linear
    system, Brian2's term): gating variables dx/dt = α(1 − x) − βx = (x∞ − x)/τ with a = α,
    b = α + β = 1/τ; the membrane C dV/dt = I − Σₖ gₖ(V − Eₖ) with a = (I + Σₖ gₖEₖ)/C,
    b = Σₖ gₖ/C. The steady state is x∞ = a/b and the time constant τ = 1/b.

    Such models accept the integrator names `"exponential_euler"` (every component
    exponential) and `"rush_larsen"` (the gates exponential, the others explicit Euler).

    Class attributes:
        gate_state_names: the gating variables (exponential under both names).
    """

    gate_state_names: eqx.AbstractClassVar[tuple[str, ...]]

    @abc.abstractmethod
    def linear_coefficients(
        self, t: ScalarLike, y: State, current: ScalarLike
    ) -> tuple[State, State]:
        """(a, b), each `[n_state]`, with `vector_field(t, y, current) == a − b·y`, b in 1/ms.

        A component whose coefficients do depend on itself (an instantaneous activation such
        as Morris–Lecar's m∞(V)) has them evaluated at `y`, i.e. frozen over the step."""

    @property
    def gate_mask(self) -> tuple[bool, ...]:
        """Per-component flag: True for the gating variables."""
        return tuple(name in self.gate_state_names for name in self.state_names)


def conductance_model_names() -> tuple[str, ...]:
    """The concrete `AbstractConductanceModel` classes of `scjax.models.MODELS`, by name."""
    from ._registry import MODELS  # the registry imports every model, this module's among them

    return tuple(sorted(n for n, c in MODELS.items() if issubclass(c, AbstractConductanceModel)))
