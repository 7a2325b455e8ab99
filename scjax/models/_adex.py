"""Adaptive exponential integrate-and-fire model (Brette & Gerstner 2005)."""

from collections.abc import Mapping
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from .._custom_types import Param, ScalarLike, State
from ._base import AbstractResettingModel, AbstractUpstrokeModel
from ._domain import Domain

#: Upper bound on the argument of AdEx's exponential, (V − V_T)/Δ_T. exp(30) ≈ 1.1e13 is
#: finite in float32 and float64, so no step can overflow however far V overshoots within it;
#: below the bound (V < V_T + 30 Δ_T = −10.4 mV at the defaults, far beyond spike initiation)
#: the model is unchanged. The native libraries clip at the same value.
ADEX_EXP_ARG_MAX: float = 30.0

#: Naud, Marcille, Clopath & Gerstner (2008), Biol. Cybern. 99:335, Table 1 firing patterns:
#: (C pF, g_L nS, E_L mV, V_T mV, Δ_T mV, τ_w ms, a nS, b pA, V_r mV) and the step current
#: (pA) that shows the pattern.
ADEX_PRESETS: dict[str, tuple[tuple[float, ...], float]] = {
    "tonic": ((200.0, 10.0, -70.0, -50.0, 2.0, 30.0, 2.0, 0.0, -58.0), 500.0),
    "adapting": ((200.0, 12.0, -70.0, -50.0, 2.0, 300.0, 2.0, 60.0, -58.0), 500.0),
    "initial_burst": ((130.0, 18.0, -58.0, -50.0, 2.0, 150.0, 4.0, 120.0, -50.0), 400.0),
    "bursting": ((200.0, 10.0, -58.0, -50.0, 2.0, 120.0, 2.0, 100.0, -46.0), 210.0),
    "irregular": ((100.0, 12.0, -60.0, -50.0, 2.0, 130.0, -11.0, 30.0, -48.0), 160.0),
    "transient": ((100.0, 10.0, -65.0, -50.0, 2.0, 90.0, 10.0, 100.0, -47.0), 180.0),
    "delayed": ((200.0, 12.0, -70.0, -50.0, 2.0, 300.0, -10.0, 0.0, -58.0), 300.0),
}


def _naud_presets(fields: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """`ADEX_PRESETS` as field values (`fields`: the order of an entry), with Naud et al.'s
    spike cut-off V_peak = 0 mV."""
    return {
        name: {**dict(zip(fields, values)), "v_peak": 0.0}
        for name, (values, _) in ADEX_PRESETS.items()
    }


class AdEx(AbstractResettingModel, AbstractUpstrokeModel):
    r"""Adaptive exponential integrate-and-fire (Brette & Gerstner 2005, J. Neurophysiol.
    94:3637).

    $$C \frac{dV}{dt} = -g_L (V - E_L) + g_L \Delta_T \exp\!\Big(\frac{V - V_T}{\Delta_T}\Big)
        - w + I, \qquad \tau_w \frac{dw}{dt} = a (V - E_L) - w$$

    and, when $V \ge V_\text{peak}$: $V \leftarrow V_r$, $w \leftarrow w + b$.
    The exponent is clipped at `ADEX_EXP_ARG_MAX` (30) so that no step overflows.

    Units: C pF, g_L and a nS, potentials mV, w, b and I pA, τ_w ms, t ms.
    Defaults are the paper's cortical pyramidal cell (C 281 pF, g_L 30 nS, E_L −70.6 mV,
    V_T −50.4 mV, Δ_T 2 mV, τ_w 144 ms, a 4 nS, b 80.5 pA, V_r = E_L, V_peak 20 mV).
    State `(V, w)`, initially `(E_L, 0)`. Default integrator: `"euler"`.
    """

    c: Param = 281.0
    g_l: Param = 30.0
    e_l: Param = -70.6
    v_t: Param = -50.4
    delta_t: Param = 2.0
    tau_w: Param = 144.0
    a: Param = 4.0
    b: Param = 80.5
    v_reset: Param = -70.6
    v_peak: Param = 20.0
    noise_std: Param = 0.0
    integrator: str = eqx.field(static=True, default="euler")

    state_names: ClassVar[tuple[str, ...]] = ("v", "w")
    param_names: ClassVar[tuple[str, ...]] = (
        "c",
        "g_l",
        "e_l",
        "v_t",
        "delta_t",
        "tau_w",
        "a",
        "b",
        "v_reset",
        "v_peak",
    )
    fast_state_names: ClassVar[tuple[str, ...]] = ("v",)
    spike_state: ClassVar[str] = "v"
    native_name: ClassVar[str | None] = "adex"
    system_name: ClassVar[str] = "adex"
    param_domains: ClassVar[Mapping[str, Domain]] = {
        "c": Domain.positive("pF"),
        "g_l": Domain.positive("nS"),
        "e_l": Domain.real("mV"),
        "v_t": Domain.real("mV"),
        "delta_t": Domain.positive("mV"),
        "tau_w": Domain.positive("ms"),
        "a": Domain.real("nS"),
        "b": Domain.real("pA"),
        "v_reset": Domain.real("mV"),
        "v_peak": Domain.real("mV"),
    }
    #: The firing patterns of `ADEX_PRESETS` (Naud et al. 2008 count a spike at V_peak = 0 mV);
    #: the current that shows each pattern is `ADEX_PRESETS[name][1]`. An entry lists every
    #: parameter but v_peak, in `param_names` order.
    presets: ClassVar[Mapping[str, Mapping[str, float]]] = _naud_presets(param_names[:-1])

    def vector_field(self, t: ScalarLike, y: State, current: ScalarLike) -> State:
        del t
        # NEST's convention (aeif_*): the right-hand side sees V clamped at V_peak, so the
        # stages of a multi-stage method that overshoot the peak stay physical. An Euler step
        # always starts below V_peak (it resets otherwise), so Euler is unaffected.
        v = jnp.minimum(y[0], self.v_peak)
        w = y[1]
        arg = jnp.minimum((v - self.v_t) / self.delta_t, ADEX_EXP_ARG_MAX)
        dv = (
            -self.g_l * (v - self.e_l) + self.g_l * self.delta_t * jnp.exp(arg) - w + current
        ) / self.c
        dw = (self.a * (v - self.e_l) - w) / self.tau_w
        return jnp.stack([dv, dw])

    def upstroke_rate(self):
        """The largest rate (1/ms) of the V equation, g_L·exp((V_peak − V_T)/Δ_T)/C, reached at
        the peak. A linearly implicit step with diagonal coefficient γ has a pole where
        γ·h·rate = 1; past it the step reverses the upstroke and spikes are lost, so
        `scjax.simulate` refuses Rosenbrock steps with γ·dt·upstroke_rate ≥ 1 (lower `v_peak`,
        e.g. to V_T + 5Δ_T as in Brian 2, or lower dt)."""
        arg = jnp.minimum((self.v_peak - self.v_t) / self.delta_t, ADEX_EXP_ARG_MAX)
        return self.g_l * jnp.exp(arg) / self.c

    def initial_state(self) -> State:
        v0 = jnp.asarray(self.e_l)
        return jnp.stack([v0, jnp.zeros_like(v0)])

    def spike_threshold(self) -> Param:
        return self.v_peak

    def reset(self, y: State) -> State:
        return y.at[0].set(self.v_reset).at[1].add(self.b)
