"""Firing-rate homeostasis by a proportional–integral threshold controller."""

from collections.abc import Mapping
from typing import ClassVar

import jax
import jax.numpy as jnp

from .._custom_types import Param, ScalarLike, State
from ._domain import Domain
from ._system_base import AbstractPlainSystem, integrator_field


class Homeostasis(AbstractPlainSystem):
    r"""A rate neuron whose threshold is set by a PI controller on its own firing rate
    (intrinsic plasticity as feedback control: Turrigiano 2008, Cell 135:422; O'Leary &
    Wyllie 2011, J. Physiol. 589:2447; Åström & Murray 2008, *Feedback Systems*, ch. 10).

    $$e = r - r^*, \qquad \theta = \theta_0 + K_p e + K_i z, \qquad \frac{dz}{dt} = e,$$
    $$\tau_r \frac{dr}{dt} = -r + r_\text{max}\, \sigma\!\Big(\frac{I - \theta}{s}\Big)$$

    A rate above target raises the threshold. The integral term removes the steady-state
    error: whatever the drive I (the input `current`), r → r* as long as the target is
    reachable (0 < r* < r_max). Units: t, τ_r ms; r, r*, r_max Hz; I, θ, s a.u.; K_p a.u./Hz;
    K_i a.u./(Hz·ms); z Hz·ms. Defaults: τ_r 10 ms, r_max 100 Hz, s 2, θ₀ 5, r* 10 Hz,
    K_p 0.05, K_i 0.001. State `(r, z)` = (0, 0). The suite drives it with I = 10.
    """

    tau_r: Param = 10.0
    r_max: Param = 100.0
    slope: Param = 2.0
    theta0: Param = 5.0
    r_target: Param = 10.0
    k_p: Param = 0.05
    k_i: Param = 0.001
    noise_std: Param = 0.0
    integrator: str = integrator_field()

    state_names: ClassVar[tuple[str, ...]] = ("r", "z")
    param_names: ClassVar[tuple[str, ...]] = (
        "tau_r",
        "r_max",
        "slope",
        "theta0",
        "r_target",
        "k_p",
        "k_i",
    )
    spike_state: ClassVar[str] = "r"
    system_name: ClassVar[str] = "homeostasis"
    param_domains: ClassVar[Mapping[str, Domain]] = {"tau_r": Domain.positive("ms")}

    def threshold(self, y: State):
        """θ = θ₀ + K_p e + K_i z."""
        return self.theta0 + self.k_p * (y[0] - self.r_target) + self.k_i * y[1]

    def vector_field(self, t: ScalarLike, y: State, current: ScalarLike) -> State:
        del t
        r = y[0]
        drive = self.r_max * jax.nn.sigmoid((current - self.threshold(y)) / self.slope)
        return jnp.stack([(-r + drive) / self.tau_r, r - self.r_target])

    def initial_state(self) -> State:
        return jnp.zeros(2, dtype=jnp.result_type(float))
