"""Leaky integrate-and-fire model (Lapicque 1907; Gerstner et al. 2014, ch. 1)."""

from collections.abc import Mapping
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from .._custom_types import Param, ScalarLike, State
from ._base import AbstractResettingModel
from ._domain import Domain


class LIF(AbstractResettingModel):
    r"""Leaky integrate-and-fire neuron.

    $$\tau_m \frac{dV}{dt} = -(V - V_\text{rest}) + R_m I$$

    and, when $V \ge V_\text{th}$: $V \leftarrow V_\text{reset}$ (no refractory period, so the
    model stays an ODE between spikes). Units: τ_m ms, potentials mV, R_m MΩ, I nA (R_m·I in mV).
    Defaults: τ_m 20 ms, V_rest −65, V_th −50, V_reset −65 mV, R_m 1; the rheobase is then
    I = 15. State `(V,)`, initially V_rest. Default integrator: `"euler"`.
    """

    tau_m: Param = 20.0
    v_rest: Param = -65.0
    v_th: Param = -50.0
    v_reset: Param = -65.0
    r_m: Param = 1.0
    noise_std: Param = 0.0
    integrator: str = eqx.field(static=True, default="euler")

    state_names: ClassVar[tuple[str, ...]] = ("v",)
    param_names: ClassVar[tuple[str, ...]] = ("tau_m", "v_rest", "v_th", "v_reset", "r_m")
    fast_state_names: ClassVar[tuple[str, ...]] = ("v",)
    spike_state: ClassVar[str] = "v"
    system_name: ClassVar[str] = "lif"
    param_domains: ClassVar[Mapping[str, Domain]] = {
        "tau_m": Domain.positive("ms"),
        "v_rest": Domain.real("mV"),
        "v_th": Domain.real("mV"),
        "v_reset": Domain.real("mV"),
        "r_m": Domain.positive("MΩ"),
    }

    def vector_field(self, t: ScalarLike, y: State, current: ScalarLike) -> State:
        del t
        return jnp.stack([(-(y[0] - self.v_rest) + self.r_m * current) / self.tau_m])

    def initial_state(self) -> State:
        return jnp.stack([jnp.asarray(self.v_rest)])

    def spike_threshold(self) -> Param:
        return self.v_th

    def reset(self, y: State) -> State:
        return y.at[0].set(self.v_reset)
