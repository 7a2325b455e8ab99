"""Kuramoto phase oscillators: the phase-field system of the reference suite."""

from collections.abc import Mapping
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._custom_types import Param, ScalarLike, State
from ._domain import Domain
from ._system_base import PLAIN_DEFAULT_INTEGRATOR, AbstractPlainSystem


class Kuramoto(AbstractPlainSystem):
    r"""All-to-all Kuramoto model (Kuramoto 1975; Strogatz 2000, Physica D 143:1).

    $$\frac{d\theta_i}{dt} = \omega_i + \frac{K}{N} \sum_{j=1}^{N} \sin(\theta_j - \theta_i)
      + I, \qquad \omega_i = \bar\omega + \sigma_\omega z_i$$

    with z_i standard normal draws and the initial phases θ_i(0) uniform on [0, 2π), both from
    `numpy.random.default_rng(seed)` (so every backend gets the same oscillators). The input
    `current` I is a common frequency shift (rad/ms). Phases are not wrapped (smooth state).

    Units: t ms, θ rad, ω, σ_ω, K and I rad/ms. Defaults: N = 64, ω̄ = 2π·10 Hz = 0.0628 rad/ms,
    σ_ω = 0.01 rad/ms, K = 0.03 rad/ms (above the Gaussian critical coupling
    K_c = 2/(π g(0)) = σ_ω·√(8/π) ≈ 0.016, so the population partially synchronises),
    seed 0. State `(theta_0, …, theta_{N−1})`; `order_parameter(y)` is r = |⟨e^{iθ}⟩|.
    """

    coupling: Param
    omega_mean: Param
    omega_std: Param
    # NumPy as constructed; tracers under jit, JAX arrays once `scjax.fit` replaces them.
    z_omega: Float[Array | np.ndarray, " n"]
    theta0: Float[Array | np.ndarray, " n"]
    noise_std: Param
    integrator: str = eqx.field(static=True)
    n: int = eqx.field(static=True)

    # state_names depends on n; it is a property below, so this class var names the default.
    param_names: ClassVar[tuple[str, ...]] = ("coupling", "omega_mean", "omega_std")
    spike_state: ClassVar[str] = "theta_0"
    system_name: ClassVar[str] = "kuramoto"
    array_param_names: ClassVar[tuple[str, ...]] = ("z_omega",)
    param_domains: ClassVar[Mapping[str, Domain]] = {"omega_std": Domain.nonnegative("rad/ms")}

    def __init__(
        self,
        n: int = 64,
        coupling: Param = 0.03,
        omega_mean: Param = 2.0 * np.pi * 0.01,
        omega_std: Param = 0.01,
        seed: int = 0,
        noise_std: Param = 0.0,
        integrator: str = PLAIN_DEFAULT_INTEGRATOR,
    ):
        if not (isinstance(n, int) and n >= 1):
            raise ValueError(f"n must be a positive int, got {n!r}")
        rng = np.random.default_rng(seed)
        self.n = n
        self.z_omega = rng.standard_normal(n)
        self.theta0 = rng.uniform(0.0, 2.0 * np.pi, n)
        self.coupling = coupling
        self.omega_mean = omega_mean
        self.omega_std = omega_std
        self.noise_std = noise_std
        self.integrator = integrator

    @property
    def state_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(f"theta_{i}" for i in range(self.n))

    def natural_frequencies(self):
        return self.omega_mean + self.omega_std * self.z_omega

    def vector_field(self, t: ScalarLike, y: State, current: ScalarLike) -> State:
        del t
        # (1/N) Σ_j sin(θ_j − θ_i) = Im(e^{−iθ_i} ⟨e^{iθ}⟩) = S cos θ_i − C sin θ_i:
        # O(N), not O(N²).
        s, c = jnp.sin(y), jnp.cos(y)
        mean_s, mean_c = jnp.mean(s), jnp.mean(c)
        return (
            jnp.asarray(self.natural_frequencies())
            + self.coupling * (mean_s * c - mean_c * s)
            + current
        )

    def initial_state(self) -> State:
        return jnp.asarray(self.theta0)

    @staticmethod
    def order_parameter(y):
        """r = |mean_j exp(iθ_j)| over the last axis (1 = full synchrony)."""
        return jnp.hypot(jnp.mean(jnp.cos(y), axis=-1), jnp.mean(jnp.sin(y), axis=-1))
