"""Two-population excitatory–inhibitory rate model in its gamma-band limit cycle."""

from collections.abc import Mapping
from typing import ClassVar

import jax
import jax.numpy as jnp

from .._custom_types import Param, ScalarLike, State
from ._domain import Domain
from ._system_base import AbstractPlainSystem, integrator_field


class GammaOscillation(AbstractPlainSystem):
    r"""Wilson–Cowan E–I rate model (Wilson & Cowan 1972, Biophys. J. 12:1) tuned to a
    pyramidal–interneuron gamma (PING) rhythm (Brunel & Wang 2003; Tiesinga & Sejnowski 2009).

    $$\tau_E \frac{dE}{dt} = -E + \varphi\big(W_{EE} E - W_{EI} I + P_E + I_\text{ext}\big),
      \qquad
      \tau_I \frac{dI}{dt} = -I + \varphi\big(W_{IE} E - W_{II} I + P_I\big)$$

    with the logistic φ(x) = 1/(1 + exp(−x)). The input `current` I_ext adds to the drive of
    the excitatory population. Units: τ ms, rates normalised to [0, 1], weights and drives
    dimensionless.

    Defaults: τ_E 2 ms, τ_I 4 ms, W_EE 12, W_EI 10, W_IE 10, W_II 2, P_E −2, P_I −4 (chosen
    past the Hopf bifurcation of the rest state: a stable limit cycle at about 48 Hz, inside the
    30–80 Hz gamma band, see `tests/test_models_systems.py`). State `(E, I)`, initially
    (0.1, 0.05).
    """

    tau_e: Param = 2.0
    tau_i: Param = 4.0
    w_ee: Param = 12.0
    w_ei: Param = 10.0
    w_ie: Param = 10.0
    w_ii: Param = 2.0
    p_e: Param = -2.0
    p_i: Param = -4.0
    noise_std: Param = 0.0
    integrator: str = integrator_field()

    state_names: ClassVar[tuple[str, ...]] = ("E", "I")
    param_names: ClassVar[tuple[str, ...]] = (
        "tau_e",
        "tau_i",
        "w_ee",
        "w_ei",
        "w_ie",
        "w_ii",
        "p_e",
        "p_i",
    )
    spike_state: ClassVar[str] = "E"
    system_name: ClassVar[str] = "gamma_oscillation"
    param_domains: ClassVar[Mapping[str, Domain]] = {
        "tau_e": Domain.positive("ms"),
        "tau_i": Domain.positive("ms"),
    }

    def vector_field(self, t: ScalarLike, y: State, current: ScalarLike) -> State:
        del t
        e, i = y[0], y[1]
        de = (-e + jax.nn.sigmoid(self.w_ee * e - self.w_ei * i + self.p_e + current)) / self.tau_e
        di = (-i + jax.nn.sigmoid(self.w_ie * e - self.w_ii * i + self.p_i)) / self.tau_i
        return jnp.stack([de, di])

    def initial_state(self) -> State:
        return jnp.array([0.1, 0.05], dtype=jnp.result_type(float))
