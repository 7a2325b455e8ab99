"""Noise currents drawn inside the loop: Gaussian white noise and Ornstein–Uhlenbeck."""

import jax
import jax.numpy as jnp

from ._base import AbstractStimulus, StimulusParam, check_param
from ._threefry import normal_at_step, threefry_key


class AbstractNoiseStimulus(AbstractStimulus):
    """A stochastic current. Its state holds its key; step n draws its Gaussian from
    `jax.random.fold_in(key, n)`, so a run is reproducible from the key alone and a neuron's
    noise does not depend on the rest of the batch. A threefry key (JAX's default) is held
    as a `_threefry.ThreefryKey`, whose draws are JAX's computed by elementwise integer
    arithmetic, so a Pallas kernel can draw them too."""

    @property
    def is_stochastic(self) -> bool:
        return True

    @staticmethod
    def _normal(key, n, like):
        return normal_at_step(key, n, like)


class WhiteNoise(AbstractNoiseStimulus):
    r"""Gaussian white noise of intensity σ around a mean μ:

    $$I_n = \mu + \sigma\,\xi_n/\sqrt{\Delta t}, \qquad \xi_n \sim \mathcal N(0, 1)$$

    the piecewise-constant discretisation of I(t) = μ + σ·η(t) with ⟨η(t)η(t')⟩ = δ(t − t'),
    as Brian 2's `xi` (units of σ: current·√ms). Its integral over a window is
    dt-independent (variance σ²·window); the per-sample standard deviation is σ/√dt. For the
    per-sample convention of Izhikevich (2003) (standard deviation independent of dt) use the
    model's `noise_std` instead.
    """

    std: StimulusParam
    mean: StimulusParam = 0.0

    def __check_init__(self):
        check_param("WhiteNoise", "std", self.std, nonnegative=True)
        check_param("WhiteNoise", "mean", self.mean)

    def init(self, key, dt):
        if key is None:
            raise ValueError(
                "key is None but the stimulus is stochastic (WhiteNoise): pass "
                "key=jax.random.key(seed)"
            )
        return threefry_key(key)

    def sample(self, n, t, dt, key):
        like = jnp.zeros(jnp.broadcast_shapes(jnp.shape(self.std), jnp.shape(self.mean)), t.dtype)
        xi = self._normal(key, n, like)
        return self.mean + self.std * xi / jnp.sqrt(dt), key


class OrnsteinUhlenbeck(AbstractNoiseStimulus):
    r"""An Ornstein–Uhlenbeck current with mean μ, stationary standard deviation σ and
    correlation time τ (ms):

    $$dI = \frac{\mu - I}{\tau}\,dt + \sigma\sqrt{2/\tau}\,dW$$

    advanced by its exact transition (Gillespie 1996, Phys. Rev. E 54:2084), not by
    Euler–Maruyama, so any dt is exact in distribution:

    $$I_{n+1} = \mu + (I_n - \mu)\,e^{-\Delta t/\tau}
              + \sigma\sqrt{1 - e^{-2\Delta t/\tau}}\;\xi_n$$

    I_0 is drawn from the stationary law 𝒩(μ, σ²). Autocovariance σ²·exp(−|t − t'|/τ).
    """

    mean: StimulusParam
    std: StimulusParam
    tau: StimulusParam

    def __check_init__(self):
        check_param("OrnsteinUhlenbeck", "mean", self.mean)
        check_param("OrnsteinUhlenbeck", "std", self.std, nonnegative=True)
        check_param("OrnsteinUhlenbeck", "tau", self.tau, positive=True)

    def _shape(self):
        return jnp.broadcast_shapes(*(jnp.shape(x) for x in (self.mean, self.std, self.tau)))

    def init(self, key, dt):
        if key is None:
            raise ValueError(
                "key is None but the stimulus is stochastic "
                "(OrnsteinUhlenbeck): pass key=jax.random.key(seed)"
            )
        key, first = jax.random.split(key)
        like = jnp.zeros(self._shape(), jnp.result_type(dt))
        value = self.mean + self.std * jax.random.normal(first, like.shape, like.dtype)
        return threefry_key(key), value.astype(like.dtype)

    def sample(self, n, t, dt, state):
        key, value = state
        decay = jnp.exp(-dt / self.tau)
        # sqrt(1 − e^{−2h/τ}) as sqrt(−expm1(−2h/τ)): no cancellation when dt ≪ τ.
        spread = self.std * jnp.sqrt(-jnp.expm1(-2.0 * dt / self.tau))
        xi = self._normal(key, n, value)
        following = self.mean + (value - self.mean) * decay + spread * xi
        return value, (key, following.astype(value.dtype))
