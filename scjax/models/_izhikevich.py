"""Izhikevich (2003) simple model."""

from collections.abc import Mapping
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from .._custom_types import Param, ScalarLike, State
from ._base import AbstractResettingModel, AbstractUpstrokeModel
from ._domain import Domain

#: Izhikevich (2003), Fig. 2 / Table 1: (a, b, c, d) per cortical / thalamic cell class.
IZHIKEVICH_PRESETS: dict[str, tuple[float, float, float, float]] = {
    "RS": (0.02, 0.2, -65.0, 8.0),  # regular spiking
    "IB": (0.02, 0.2, -55.0, 4.0),  # intrinsically bursting
    "CH": (0.02, 0.2, -50.0, 2.0),  # chattering
    "FS": (0.1, 0.2, -65.0, 2.0),  # fast spiking
    "LTS": (0.02, 0.25, -65.0, 2.0),  # low-threshold spiking
    "TC": (0.02, 0.25, -65.0, 0.05),  # thalamo-cortical
    "RZ": (0.1, 0.26, -65.0, 2.0),  # resonator
}


class Izhikevich(AbstractResettingModel, AbstractUpstrokeModel):
    r"""Izhikevich's simple spiking model (Izhikevich 2003, IEEE TNN 14:1569).

    $$\frac{dv}{dt} = 0.04 v^2 + 5 v + 140 - u + I, \qquad \frac{du}{dt} = a (b v - u)$$

    and, when $v \ge v_\text{peak}$ (30 mV): $v \leftarrow c$, $u \leftarrow u + d$.

    Units: v in mV, t in ms, I in the model's dimensionless current units (the paper's
    "pA-like" scale: I = 10 drives RS into tonic firing).

    State: `(v, u)`, initially `(-65, b·(-65))` as in the paper's MATLAB code.
    Default integrator: `"half_euler"` — the published MATLAB recurrence (v advanced by two
    Euler half steps, then u by one full step with the updated v).

    Fields:
        a: recovery time scale (1/ms). b: recovery sensitivity. c: reset voltage (mV).
        d: reset increment of u. v_peak: spike cut-off (mV). noise_std: standard deviation of
        Gaussian noise added to each current sample (≥ 0; needs `key` in `simulate`).
    """

    a: Param = 0.02
    b: Param = 0.2
    c: Param = -65.0
    d: Param = 8.0
    v_peak: Param = 30.0
    noise_std: Param = 0.0
    integrator: str = eqx.field(static=True, default="half_euler")

    state_names: ClassVar[tuple[str, ...]] = ("v", "u")
    param_names: ClassVar[tuple[str, ...]] = ("a", "b", "c", "d", "v_peak")
    fast_state_names: ClassVar[tuple[str, ...]] = ("v",)
    spike_state: ClassVar[str] = "v"
    native_name: ClassVar[str | None] = "izhikevich"
    system_name: ClassVar[str] = "izhikevich"
    param_domains: ClassVar[Mapping[str, Domain]] = {
        "a": Domain.positive("1/ms"),
        "b": Domain.real("1/ms"),
        "c": Domain.real("mV"),
        "d": Domain.real("mV/ms"),
        "v_peak": Domain.real("mV"),
    }
    #: The cell classes of `IZHIKEVICH_PRESETS`: `Izhikevich.preset("RS")`, ...
    presets: ClassVar[Mapping[str, Mapping[str, float]]] = {
        name: dict(zip(("a", "b", "c", "d"), abcd)) for name, abcd in IZHIKEVICH_PRESETS.items()
    }

    def vector_field(self, t: ScalarLike, y: State, current: ScalarLike) -> State:
        del t
        v, u = y[0], y[1]
        dv = 0.04 * v * v + 5.0 * v + 140.0 - u + current
        du = self.a * (self.b * v - u)
        return jnp.stack([dv, du])

    def upstroke_rate(self):
        """∂(dv/dt)/∂v = 0.08 v + 5 at v = v_peak (1/ms): the largest rate of the upstroke.
        `scjax.simulate` refuses Rosenbrock steps with γ·dt·upstroke_rate ≥ 1, where the
        linearly implicit step would reverse the quadratic blow-up and lose spikes."""
        return 0.08 * self.v_peak + 5.0

    def initial_state(self) -> State:
        v0 = jnp.asarray(-65.0)
        return jnp.stack([v0, self.b * v0])

    def spike_threshold(self) -> Param:
        return self.v_peak

    def reset(self, y: State) -> State:
        return y.at[0].set(self.c).at[1].add(self.d)
