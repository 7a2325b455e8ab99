"""Diffrax terms that carry the scjax model they evaluate."""

import diffrax
import equinox as eqx

from .._custom_types import ScalarLike, State
from ..models._base import AbstractNeuronModel


class AbstractModelTerm(diffrax.AbstractTerm):
    """A term that is one scjax model's vector field, `args` being the current, with the model
    itself reachable as `.model`: solvers that need more of a model than f read it there
    (`ExponentialEuler` reads the model's `linear_coefficients`).

    `scjax.simulate`'s loop uses one whose control is exactly `dt`; in `diffrax.diffeqsolve`
    use `ModelTerm(model)`.
    """

    model: eqx.AbstractVar[AbstractNeuronModel]


class ModelTerm(AbstractModelTerm):
    """`diffrax.ODETerm(model.vector_field)` that keeps the model: vf = f(t, y, current),
    control t₁ − t₀. Pass it to `diffrax.diffeqsolve` with `args=current` (a constant)."""

    model: AbstractNeuronModel

    def vf(self, t: ScalarLike, y: State, args) -> State:
        return self.model.vector_field(t, y, args)

    def contr(self, t0: ScalarLike, t1: ScalarLike, **kwargs):
        return t1 - t0

    def prod(self, vf: State, control) -> State:
        return vf * control
