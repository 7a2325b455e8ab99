"""Spike-timing-dependent plasticity: the Bi & Poo pair rule over a grid of pairing lags."""

from collections.abc import Mapping
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._custom_types import Param, ScalarLike, State
from ._domain import Domain
from ._system_base import PLAIN_DEFAULT_INTEGRATOR, AbstractPlainSystem


class STDPCurve(AbstractPlainSystem):
    r"""Synaptic weights under repeated pre/post pairings, one synapse per pairing lag Δt
    (Bi & Poo 1998, J. Neurosci. 18:10464; time constants of Bi & Poo 2001, Annu. Rev.
    Neurosci. 24:139; soft bounds as in van Rossum, Bi & Turrigiano 2000, J. Neurosci.
    20:8812).

    The closed-form pair rule (Δt = t_post − t_pre, ms):

    $$W(\Delta t) = A_+ e^{-\Delta t/\tau_+} \ (\Delta t > 0), \qquad
      W(\Delta t) = -A_- e^{\Delta t/\tau_-} \ (\Delta t < 0)$$

    applied at a pairing rate ρ (pairings per ms), multiplicatively bounded in [0, w_max]:

    $$\frac{dw_k}{dt} = \rho\,(1 + I)\,\Big(W^+(\Delta t_k)\,(w_\text{max} - w_k)
       - W^-(\Delta t_k)\, w_k\Big)$$

    with W⁺ = max(W, 0), W⁻ = max(−W, 0). The input `current` I scales the pairing rate.
    Each w_k relaxes exponentially to w_max (potentiation) or 0 (depression) at rate
    ρ(1 + I)|W(Δt_k)|: a closed-form solution (`exact`, tested).

    Units: t, Δt, τ± ms; ρ 1/ms; A±, w dimensionless. Defaults: A₊ 0.777, A₋ 0.273,
    τ₊ 16.8 ms, τ₋ 33.7 ms, ρ 0.001/ms (1 Hz, Bi & Poo's protocol), w_max 1, w(0) 0.5, lags
    16 values from −75 to 75 ms in steps of 10 ms (Δt = 0 excluded).
    """

    a_plus: Param
    a_minus: Param
    tau_plus: Param
    tau_minus: Param
    rate: Param
    w_max: Param
    w0: Param
    lags: Float[Array | np.ndarray, " n"]  # NumPy as constructed; a tracer under jit
    noise_std: Param
    integrator: str = eqx.field(static=True)

    param_names: ClassVar[tuple[str, ...]] = (
        "a_plus",
        "a_minus",
        "tau_plus",
        "tau_minus",
        "rate",
        "w_max",
        "w0",
    )
    spike_state: ClassVar[str] = "w_0"
    system_name: ClassVar[str] = "stdp"
    array_param_names: ClassVar[tuple[str, ...]] = ("lags",)
    param_domains: ClassVar[Mapping[str, Domain]] = {
        "tau_plus": Domain.positive("ms"),
        "tau_minus": Domain.positive("ms"),
    }

    def __init__(
        self,
        a_plus: Param = 0.777,
        a_minus: Param = 0.273,
        tau_plus: Param = 16.8,
        tau_minus: Param = 33.7,
        rate: Param = 0.001,
        w_max: Param = 1.0,
        w0: Param = 0.5,
        lags=None,
        noise_std: Param = 0.0,
        integrator: str = PLAIN_DEFAULT_INTEGRATOR,
    ):
        lags = np.arange(-75.0, 76.0, 10.0) if lags is None else np.asarray(lags, float)
        if lags.ndim != 1 or lags.size == 0 or np.any(lags == 0) or not np.all(np.isfinite(lags)):
            raise ValueError(
                f"lags must be a non-empty 1-D array of finite non-zero lags, got {lags}"
            )
        self.lags = lags
        self.a_plus, self.a_minus = a_plus, a_minus
        self.tau_plus, self.tau_minus = tau_plus, tau_minus
        self.rate, self.w_max, self.w0 = rate, w_max, w0
        self.noise_std = noise_std
        self.integrator = integrator

    @property
    def state_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(f"w_{k}" for k in range(self.lags.shape[0]))

    def curve(self, delta_t):
        """The closed-form pair rule W(Δt) (relative weight change per pairing)."""
        delta_t = jnp.asarray(delta_t)
        pos = self.a_plus * jnp.exp(-jnp.abs(delta_t) / self.tau_plus)
        neg = -self.a_minus * jnp.exp(-jnp.abs(delta_t) / self.tau_minus)
        return jnp.where(delta_t > 0, pos, jnp.where(delta_t < 0, neg, 0.0))

    def vector_field(self, t: ScalarLike, y: State, current: ScalarLike) -> State:
        del t
        w = self.curve(self.lags)
        pot, dep = jnp.maximum(w, 0.0), jnp.maximum(-w, 0.0)
        # jnp.asarray: already a JAX array (pot is); it tells a type checker so.
        return jnp.asarray(self.rate * (1.0 + current) * (pot * (self.w_max - y) - dep * y))

    def initial_state(self) -> State:
        return jnp.full(self.lags.shape, self.w0, dtype=jnp.result_type(float))

    def exact(self, t, current: ScalarLike = 0.0):
        """w_k(t) in closed form, shape [len(t), n] (t a 1-D array in ms)."""
        w = self.curve(self.lags)
        k = self.rate * (1.0 + current) * jnp.abs(w)
        target = jnp.where(w > 0, self.w_max, 0.0)
        t = jnp.asarray(t)[:, None]
        return target + (self.w0 - target) * jnp.exp(-k * t)
