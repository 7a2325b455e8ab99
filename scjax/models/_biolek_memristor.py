"""Biolek memristor: the HP TiO₂ linear-drift model with Biolek's window function."""

from collections.abc import Mapping
from typing import ClassVar

import jax.numpy as jnp

from .._custom_types import Param, ScalarLike, State
from ._domain import Domain
from ._system_base import AbstractPlainSystem, integrator_field


class BiolekMemristor(AbstractPlainSystem):
    r"""Voltage-driven HP memristor with the Biolek window (Strukov et al. 2008, Nature 453:80;
    Biolek, Biolek & Biolková 2009, Radioengineering 18:210).

    $$M(x) = R_\text{on} x + R_\text{off}(1 - x), \qquad i = \frac{v(t)}{M(x)}, \qquad
      \frac{dx}{dt} = \frac{\mu_v R_\text{on}}{D^2}\, i\, f(x, i)$$
    $$f(x, i) = 1 - \big(x - \operatorname{stp}(-i)\big)^{2p}, \qquad
      \operatorname{stp}(s) = 1 \text{ if } s \ge 0 \text{ else } 0$$

    The window vanishes at the boundary the state is moving towards (x → 1 while i > 0,
    x → 0 while i < 0), so x stays in [0, 1], and it does not stick there when the current
    reverses. The source is v(t) = V_amp sin(2π f t) + I, with the input `current` I a DC
    offset in volts (0 by default). The power is written ((x − stp)²)^p, so p need not be an
    integer.

    Units: t ms, resistances Ω, D m, μ_v m²/(V·s), V_amp V, f Hz; x dimensionless.
    Defaults: R_on 100 Ω, R_off 16 kΩ, D 10 nm (the HP device), μ_v 1e-13 m²/(V·s), p 1,
    V_amp 1.2 V, f 10 Hz, x(0) 0.1: one period every 100 ms with a pinched hysteresis loop.
    State `(x,)`.
    """

    r_on: Param = 100.0
    r_off: Param = 16e3
    d: Param = 10e-9
    mu_v: Param = 1e-13
    p: Param = 1.0
    v_amp: Param = 1.2
    freq: Param = 10.0
    x0: Param = 0.1
    noise_std: Param = 0.0
    integrator: str = integrator_field()

    state_names: ClassVar[tuple[str, ...]] = ("x",)
    param_names: ClassVar[tuple[str, ...]] = (
        "r_on",
        "r_off",
        "d",
        "mu_v",
        "p",
        "v_amp",
        "freq",
        "x0",
    )
    spike_state: ClassVar[str] = "x"
    system_name: ClassVar[str] = "biolek_memristor"
    param_domains: ClassVar[Mapping[str, Domain]] = {
        "r_on": Domain.positive("Ω"),
        "r_off": Domain.positive("Ω"),
        "d": Domain.positive("m"),
        "mu_v": Domain.positive("m²/(V·s)"),
        "p": Domain.positive("1"),
    }

    def voltage(self, t, current: ScalarLike = 0.0):
        """The source voltage v(t) in V (t in ms)."""
        return self.v_amp * jnp.sin(2.0 * jnp.pi * self.freq * t * 1e-3) + current

    def memristance(self, x):
        return self.r_on * x + self.r_off * (1.0 - x)

    def vector_field(self, t: ScalarLike, y: State, current: ScalarLike) -> State:
        x = y[0]
        i = self.voltage(t, current) / self.memristance(x)
        stp = jnp.where(i <= 0, 1.0, 0.0)  # stp(−i): 1 while the current is not positive
        window = 1.0 - ((x - stp) ** 2) ** self.p
        k = self.mu_v * self.r_on / (self.d * self.d) * 1e-3  # 1/(A·s) → 1/(A·ms)
        return jnp.stack([k * i * window])

    def initial_state(self) -> State:
        return jnp.stack([jnp.asarray(self.x0, dtype=jnp.result_type(float))])
