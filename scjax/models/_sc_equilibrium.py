"""Stochastic-computing equilibrium: the running mean of an N-bit bitstream averager."""

from collections.abc import Mapping
from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Param, ScalarLike, State
from ._domain import Domain
from ._system_base import AbstractPlainSystem, integrator_field


class SCEquilibrium(AbstractPlainSystem):
    r"""Mean-field of a stochastic-computing (SC) bitstream averager (Gaines 1969; Alaghi &
    Hayes 2013, ACM TECS 12:92).

    An N-bit shift-register averager fed Bernoulli(p) bits, one every τ_clk, has the expected
    estimate x obeying

    $$\frac{dx}{dt} = \frac{p + I - x}{N \tau_\text{clk}}$$

    (the issue's dx/dt = (p − x)/N with t counted in clock periods). The input `current` I
    shifts the bit probability (0 by default); x relaxes to p + I with time constant N·τ_clk.

    Units: t and τ_clk in ms; x, p dimensionless probabilities. Defaults p = 0.3, N = 256 bits,
    τ_clk = 0.1 ms (time constant 25.6 ms). State `(x,)`, initially x = 0.
    Closed form: x(t) = (p + I)(1 − exp(−t/(N τ_clk))) for x(0) = 0.
    """

    p: Param = 0.3
    n_bits: Param = 256.0
    tau_clk: Param = 0.1
    x0: Param = 0.0
    noise_std: Param = 0.0
    integrator: str = integrator_field()

    state_names: ClassVar[tuple[str, ...]] = ("x",)
    param_names: ClassVar[tuple[str, ...]] = ("p", "n_bits", "tau_clk", "x0")
    spike_state: ClassVar[str] = "x"
    system_name: ClassVar[str] = "sc_equilibrium"
    param_domains: ClassVar[Mapping[str, Domain]] = {
        "n_bits": Domain.positive("bits"),
        "tau_clk": Domain.positive("ms"),
    }

    def vector_field(self, t: ScalarLike, y: State, current: ScalarLike) -> State:
        del t
        return jnp.stack([(self.p + current - y[0]) / (self.n_bits * self.tau_clk)])

    def initial_state(self) -> State:
        return jnp.stack([jnp.asarray(self.x0, dtype=jnp.result_type(float))])

    def exact(self, t, current: ScalarLike = 0.0):
        """The closed-form solution x(t) (for tests and golden checks)."""
        target = self.p + current
        return target + (self.x0 - target) * jnp.exp(-t / (self.n_bits * self.tau_clk))
