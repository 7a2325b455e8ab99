"""LIF in Q8.8 fixed-point arithmetic: the stochastic-computing ("SC") hardware path."""

from collections.abc import Mapping
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from .._custom_types import Param, ScalarLike, State
from ._base import AbstractDiscreteTimeModel, AbstractResettingModel
from ._domain import Domain

#: Fractional bits of the membrane state and input (Q8.8: 1 LSB = 1/256 mV).
Q_FRAC_BITS: int = 8
#: Fractional bits of the leak coefficient dt/τ_m (Q0.16: 1 LSB = 2⁻¹⁶).
COEF_FRAC_BITS: int = 16


class FixedPointLIF(AbstractResettingModel, AbstractDiscreteTimeModel):
    r"""The LIF of `scjax.models.LIF` as an integer datapath: one Euler step per clock,

    $$q_{n+1} = q_n + \big\lfloor \big( (q_\text{rest} - q_n + q_I)\, k + 2^{15} \big)
       / 2^{16} \big\rfloor, \qquad k = \operatorname{round}(2^{16}\, dt/\tau_m)$$

    in int32, where q = round(256·V) is the membrane potential in Q8.8 (mV) and
    q_I = round(256·R_m·I) the input in Q8.8 (mV). The product (q_rest − q + q_I)·k fits in
    int32 for |V − V_rest − R_m I| < 2¹⁵/256·2¹⁶/k mV (≈ 25 V at dt/τ = 0.005). Threshold and
    reset are the LIF's, in Q8.8: spike when q ≥ round(256·V_th), then q ← round(256·V_reset).

    Stochastic-bitstream variant (`bitstream_bits = N > 0`): each step the input is a
    stochastic-computing number, the count c of ones among N Bernoulli(p) bits with
    p = clip(I / I_max, 0, 1), decoded as q_I = round(256·R_m·I_max·c/N) (an unbiased
    estimate of 256·R_m·I). The bits come from `jax.random.key(seed)` folded with the bits of
    t, so a run is reproducible and two steps never share bits.

    The state `(v_q,)` holds the Q8.8 integer (as a float: exact up to 2²⁴, so float32 and
    float64 runs are identical); divide by 256 for mV. The integer increment is returned by
    `vector_field` divided by `dt`, so the model's Euler step in `scjax.simulate` applies it
    exactly: **simulate it with the same `dt` it was built for** (`FixedPointLIF(dt=0.1)` with
    `scjax.simulate(model, current, 0.1)`). Its firing rate matches the continuous LIF to
    within 1 % (tested at three input levels; Gaines 1969 and Alaghi & Hayes 2013 for SC).

    Units: τ_m, dt ms; potentials mV; R_m MΩ; I, I_max nA. Defaults: the LIF's (τ_m 20,
    V_rest −65, V_th −50, V_reset −65, R_m 1), dt 0.1 ms, no bitstream, I_max 40 nA,
    N = 256 bits, seed 0.
    """

    tau_m: Param = 20.0
    v_rest: Param = -65.0
    v_th: Param = -50.0
    v_reset: Param = -65.0
    r_m: Param = 1.0
    dt: Param = 0.1
    i_max: Param = 40.0
    noise_std: Param = 0.0
    bitstream_bits: int = eqx.field(static=True, default=0)
    seed: int = eqx.field(static=True, default=0)
    integrator: str = eqx.field(static=True, default="euler")

    state_names: ClassVar[tuple[str, ...]] = ("v_q",)
    param_names: ClassVar[tuple[str, ...]] = (
        "tau_m",
        "v_rest",
        "v_th",
        "v_reset",
        "r_m",
        "dt",
        "i_max",
    )
    fast_state_names: ClassVar[tuple[str, ...]] = ("v_q",)
    spike_state: ClassVar[str] = "v_q"
    param_domains: ClassVar[Mapping[str, Domain]] = {
        "tau_m": Domain.positive("ms"),
        "v_rest": Domain.real("mV"),
        "v_th": Domain.real("mV"),
        "v_reset": Domain.real("mV"),
        "r_m": Domain.real("MΩ"),
        "dt": Domain.positive("ms"),
        "i_max": Domain.positive("nA"),
    }

    def __check_init__(self):
        if self.integrator != "euler":
            raise ValueError(
                f"integrator must be 'euler' for FixedPointLIF (its step is the integer "
                f"update), got {self.integrator!r}"
            )
        if not (isinstance(self.bitstream_bits, int) and self.bitstream_bits >= 0):
            raise ValueError(f"bitstream_bits must be an int >= 0, got {self.bitstream_bits!r}")

    @staticmethod
    def to_q(x):
        """A value in mV (or mV-equivalent) → the nearest Q8.8 integer, int32."""
        return jnp.round(jnp.asarray(x) * (1 << Q_FRAC_BITS)).astype(jnp.int32)

    def leak_coefficient(self):
        """k = round(2¹⁶·dt/τ_m), int32."""
        return jnp.round(self.dt / self.tau_m * (1 << COEF_FRAC_BITS)).astype(jnp.int32)

    def input_q(self, t: ScalarLike, current: ScalarLike):
        """The step's input R_m·I in Q8.8 (exact rounding, or the bitstream estimate)."""
        if self.bitstream_bits == 0:
            return self.to_q(self.r_m * current)
        n = self.bitstream_bits
        t = jnp.asarray(t)
        t_bits = jax.lax.bitcast_convert_type(
            t, jnp.uint64 if t.dtype == jnp.float64 else jnp.uint32
        )
        key = jax.random.key(self.seed)
        key = jax.random.fold_in(key, (t_bits & 0xFFFFFFFF).astype(jnp.uint32))
        key = jax.random.fold_in(
            key, (t_bits >> 32).astype(jnp.uint32) if t_bits.dtype == jnp.uint64 else jnp.uint32(0)
        )
        p = jnp.clip(current / self.i_max, 0.0, 1.0)
        count = jnp.sum(jax.random.bernoulli(key, p, (n,)).astype(jnp.int32))
        full = self.to_q(self.r_m * self.i_max)
        return (full * count + n // 2) // n

    def vector_field(self, t: ScalarLike, y: State, current: ScalarLike) -> State:
        q = jnp.round(y[0]).astype(jnp.int32)
        drive = self.to_q(self.v_rest) - q + self.input_q(t, current)
        dq = (drive * self.leak_coefficient() + (1 << (COEF_FRAC_BITS - 1))) >> COEF_FRAC_BITS
        return jnp.stack([dq.astype(y.dtype) / self.dt])

    def initial_state(self) -> State:
        return jnp.stack([self.to_q(self.v_rest).astype(jnp.result_type(float))])

    def spike_threshold(self) -> Param:
        # Half an LSB below the integer threshold: the float state is q ± rounding of the
        # Euler product, so the comparison never depends on the last bit.
        return self.to_q(self.v_th).astype(jnp.result_type(float)) - 0.5

    def reset(self, y: State) -> State:
        return y.at[0].set(self.to_q(self.v_reset).astype(y.dtype))
