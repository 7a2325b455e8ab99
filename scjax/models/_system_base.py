"""Base class of the non-spiking continuous-time systems of the reference suite.

They are plain ODEs: no threshold, no reset, no spikes. They derive from
`scjax.models.AbstractNeuronModel` so that `scjax.simulate`, `scjax.adaptive.solve` and every
backend treat them exactly like the neuron models (same `vector_field(t, y, current)`, same
`Trajectory`); their spike trace is all-False.
"""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from .._custom_types import Param, State
from ._base import AbstractNeuronModel


class AbstractPlainSystem(AbstractNeuronModel):
    """A smooth ODE system without spikes.

    `spike_threshold()` is +∞ and `spike_and_reset` keeps the state and reports no spike, so a
    fixed-step `scjax.simulate` run is the plain integration of the vector field. The
    `current` argument of `vector_field` is the system's scalar input (documented per system;
    systems without an input ignore it). Default integrator: `"rk4"`.
    """

    fast_state_names: ClassVar[tuple[str, ...]] = ()

    def spike_threshold(self) -> Param:
        return jnp.inf

    def spike_and_reset(self, y_prev: State, y_next: State, surrogate=None):
        del y_prev, surrogate
        return y_next, jnp.zeros((), y_next.dtype)


#: The default integrator of plain systems (smooth right-hand sides: the classic RK4).
PLAIN_DEFAULT_INTEGRATOR: str = "rk4"


def integrator_field():
    return eqx.field(static=True, default=PLAIN_DEFAULT_INTEGRATOR)
