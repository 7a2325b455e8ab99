"""FitzHugh–Nagumo model (FitzHugh 1961; Nagumo, Arimoto & Yoshizawa 1962)."""

from collections.abc import Mapping
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from .._custom_types import Param, ScalarLike, State
from ._base import AbstractCrossingModel
from ._domain import Domain


class FitzHughNagumo(AbstractCrossingModel):
    r"""FitzHugh–Nagumo relaxation oscillator (FitzHugh 1961, Biophys. J. 1:445).

    $$\frac{dv}{dt} = v - \frac{v^3}{3} - w + I, \qquad
      \tau_w \frac{dw}{dt} = v + a - b w$$

    Dimensionless; τ_w = 12.5, a = 0.7, b = 0.8. At these values the resting point loses
    stability (Hopf) near I ≈ 0.33. State `(v, w)`, initially the I = 0 resting point
    (v* ≈ −1.1994, w* = (v* + a)/b). Spikes: upward crossings of `v_threshold` (1.0).
    Default integrator: `"euler"`.
    """

    tau_w: Param = 12.5
    a: Param = 0.7
    b: Param = 0.8
    v_threshold: Param = 1.0
    noise_std: Param = 0.0
    integrator: str = eqx.field(static=True, default="euler")

    state_names: ClassVar[tuple[str, ...]] = ("v", "w")
    param_names: ClassVar[tuple[str, ...]] = ("tau_w", "a", "b", "v_threshold")
    fast_state_names: ClassVar[tuple[str, ...]] = ("v",)
    spike_state: ClassVar[str] = "v"
    system_name: ClassVar[str] = "fitzhugh_nagumo"
    param_domains: ClassVar[Mapping[str, Domain]] = {
        "tau_w": Domain.positive("1"),
        "a": Domain.real("1"),
        "b": Domain.real("1"),
        "v_threshold": Domain.real("1"),
    }

    def vector_field(self, t: ScalarLike, y: State, current: ScalarLike) -> State:
        del t
        v, w = y[0], y[1]
        return jnp.stack(
            [v - v * v * v / 3.0 - w + current, (v + self.a - self.b * w) / self.tau_w]
        )

    def initial_state(self) -> State:
        # Resting point at I = 0: v - v³/3 - (v + a)/b = 0. Newton from v = -1.2 (the root is
        # simple and the iteration converges quadratically; 8 steps reach float64 precision).
        g = lambda v: v - v**3 / 3.0 - (v + self.a) / self.b  # noqa: E731
        dg = lambda v: 1.0 - v**2 - 1.0 / self.b  # noqa: E731
        v = jnp.asarray(-1.2)
        for _ in range(8):
            v = v - g(v) / dg(v)
        return jnp.stack([v, (v + self.a) / self.b])

    def spike_threshold(self) -> Param:
        return self.v_threshold
