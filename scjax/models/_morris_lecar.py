"""Morris–Lecar model (Morris & Lecar 1981), Rinzel & Ermentrout's Hopf parameter set."""

from collections.abc import Mapping
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from .._custom_types import Param, ScalarLike, State
from ._base import AbstractCrossingModel
from ._conductance import AbstractConductanceModel
from ._domain import Domain


class MorrisLecar(AbstractCrossingModel, AbstractConductanceModel):
    r"""Morris–Lecar barnacle muscle fibre model (Morris & Lecar 1981, Biophys. J. 35:193).

    $$C \frac{dV}{dt} = I - g_L (V - V_L) - g_\text{Ca} m_\infty(V) (V - V_\text{Ca})
        - g_K w (V - V_K), \qquad \frac{dw}{dt} = \phi \frac{w_\infty(V) - w}{\tau_w(V)}$$

    m∞ = ½(1 + tanh((V − V₁)/V₂)), w∞ = ½(1 + tanh((V − V₃)/V₄)),
    τ_w = 1 / cosh((V − V₃)/(2V₄)).
    Defaults: the Hopf set of Rinzel & Ermentrout (1989, "Analysis of neural excitability and
    oscillations"): C 20 µF/cm², g_L 2, g_Ca 4.4, g_K 8 mS/cm², V_L −60, V_Ca 120, V_K −84 mV,
    V₁ −1.2, V₂ 18, V₃ 2, V₄ 30 mV, φ 0.04 /ms. Current in µA/cm².
    State `(V, w)`, initially V = −60 mV, w = w∞(V). Spikes: upward crossings of 0 mV.
    Default integrator: `"euler"`; conductance-based, so `"exponential_euler"` and
    `"rush_larsen"` are accepted too (see `linear_coefficients` for the one approximation).
    """

    c: Param = 20.0
    g_l: Param = 2.0
    g_ca: Param = 4.4
    g_k: Param = 8.0
    v_l: Param = -60.0
    v_ca: Param = 120.0
    v_k: Param = -84.0
    v1: Param = -1.2
    v2: Param = 18.0
    v3: Param = 2.0
    v4: Param = 30.0
    phi: Param = 0.04
    v_threshold: Param = 0.0
    noise_std: Param = 0.0
    integrator: str = eqx.field(static=True, default="euler")

    state_names: ClassVar[tuple[str, ...]] = ("v", "w")
    param_names: ClassVar[tuple[str, ...]] = (
        "c",
        "g_l",
        "g_ca",
        "g_k",
        "v_l",
        "v_ca",
        "v_k",
        "v1",
        "v2",
        "v3",
        "v4",
        "phi",
        "v_threshold",
    )
    fast_state_names: ClassVar[tuple[str, ...]] = ("v",)
    gate_state_names: ClassVar[tuple[str, ...]] = ("w",)
    spike_state: ClassVar[str] = "v"
    system_name: ClassVar[str] = "morris_lecar"
    param_domains: ClassVar[Mapping[str, Domain]] = {
        "c": Domain.positive("µF/cm²"),
        "g_l": Domain.nonnegative("mS/cm²"),
        "g_ca": Domain.nonnegative("mS/cm²"),
        "g_k": Domain.nonnegative("mS/cm²"),
        "v_l": Domain.real("mV"),
        "v_ca": Domain.real("mV"),
        "v_k": Domain.real("mV"),
        "v1": Domain.real("mV"),
        "v2": Domain.positive("mV"),
        "v3": Domain.real("mV"),
        "v4": Domain.positive("mV"),
        "phi": Domain.nonnegative("1/ms"),
        "v_threshold": Domain.real("mV"),
    }

    def w_inf(self, v):
        return 0.5 * (1.0 + jnp.tanh((v - self.v3) / self.v4))

    def m_inf(self, v):
        return 0.5 * (1.0 + jnp.tanh((v - self.v1) / self.v2))

    def vector_field(self, t: ScalarLike, y: State, current: ScalarLike) -> State:
        del t
        v, w = y[0], y[1]
        i_ion = (
            self.g_l * (v - self.v_l)
            + self.g_ca * self.m_inf(v) * (v - self.v_ca)
            + self.g_k * w * (v - self.v_k)
        )
        dv = (current - i_ion) / self.c
        dw = self.phi * (self.w_inf(v) - w) * jnp.cosh((v - self.v3) / (2.0 * self.v4))
        return jnp.stack([dv, dw])

    def linear_coefficients(
        self, t: ScalarLike, y: State, current: ScalarLike
    ) -> tuple[State, State]:
        """C dV/dt = (I + g_L V_L + g_Ca m∞ V_Ca + g_K w V_K) − (g_L + g_Ca m∞ + g_K w) V and
        dw/dt = φ cosh(·) w∞ − φ cosh(·) w.

        The calcium activation m∞(V) is instantaneous, so the V equation is not linear in V
        (Brian2's `exponential_euler` refuses it): m∞ is frozen at the step start like the
        gates, which keeps the scheme first order and exact for frozen conductances."""
        del t
        v, w = y[0], y[1]
        g_ca = self.g_ca * self.m_inf(v)
        g_k = self.g_k * w
        drift_v = (current + self.g_l * self.v_l + g_ca * self.v_ca + g_k * self.v_k) / self.c
        rate_v = (self.g_l + g_ca + g_k) / self.c
        rate_w = self.phi * jnp.cosh((v - self.v3) / (2.0 * self.v4))
        return jnp.stack([drift_v, rate_w * self.w_inf(v)]), jnp.stack([rate_v, rate_w])

    def initial_state(self) -> State:
        v = jnp.asarray(self.v_l)
        return jnp.stack([v, self.w_inf(v)])

    def spike_threshold(self) -> Param:
        return self.v_threshold
