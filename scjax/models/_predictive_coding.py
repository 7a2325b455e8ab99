"""Two-level Rao–Ballard predictive coding network (continuous-time inference)."""

from collections.abc import Mapping
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._custom_types import Param, ScalarLike, State
from ._domain import Domain
from ._system_base import PLAIN_DEFAULT_INTEGRATOR, AbstractPlainSystem


class PredictiveCoding(AbstractPlainSystem):
    r"""Rao & Ballard (1999, Nat. Neurosci. 2:79) hierarchical predictive coding, two levels,
    with the sigmoid generative function f = σ.

    Prediction errors e₀ = s − f(U₁ r₁) (input level) and e₁ = r₁ − f(U₂ r₂) (level 1); the
    causes descend the energy E = |e₀|²/(2σ₀²) + |e₁|²/(2σ₁²) + α(|r₁|² + |r₂|²)/2:

    $$\tau \frac{dr_1}{dt} = \frac{U_1^\top\big(f'(U_1 r_1) \odot e_0\big)}{\sigma_0^2}
        - \frac{e_1}{\sigma_1^2} - \alpha r_1, \qquad
      \tau \frac{dr_2}{dt} = \frac{U_2^\top\big(f'(U_2 r_2) \odot e_1\big)}{\sigma_1^2}
        - \alpha r_2$$

    so E never increases along a trajectory (a Lyapunov function; tested). The generative
    weights U₁ [n_in × n₁], U₂ [n₁ × n₂] and the stimulus s = f(U₁ f(U₂ r₂*)) for a hidden
    cause r₂* are drawn from `numpy.random.default_rng(seed)`; the input `current` is a uniform
    offset added to s. Units: t and τ ms; rates and errors dimensionless.
    Defaults: n_in 8, n₁ 4, n₂ 2, τ 10 ms, σ₀² = σ₁² = 1, α 0.05, seed 0. State (r₁, r₂) = 0.
    """

    tau: Param
    sigma0_sq: Param
    sigma1_sq: Param
    alpha: Param
    # NumPy as constructed; tracers under jit, JAX arrays once `scjax.fit` replaces them.
    u1: Float[Array | np.ndarray, "n_in n1"]
    u2: Float[Array | np.ndarray, "n1 n2"]
    stimulus: Float[Array | np.ndarray, " n_in"]
    noise_std: Param
    integrator: str = eqx.field(static=True)
    n1: int = eqx.field(static=True)
    n2: int = eqx.field(static=True)

    param_names: ClassVar[tuple[str, ...]] = ("tau", "sigma0_sq", "sigma1_sq", "alpha")
    spike_state: ClassVar[str] = "r1_0"
    system_name: ClassVar[str] = "predictive_coding"
    array_param_names: ClassVar[tuple[str, ...]] = ("u1", "u2", "stimulus")
    param_domains: ClassVar[Mapping[str, Domain]] = {
        "tau": Domain.positive("ms"),
        "sigma0_sq": Domain.positive("1"),
        "sigma1_sq": Domain.positive("1"),
    }

    def __init__(
        self,
        n_in: int = 8,
        n1: int = 4,
        n2: int = 2,
        tau: Param = 10.0,
        sigma0_sq: Param = 1.0,
        sigma1_sq: Param = 1.0,
        alpha: Param = 0.05,
        seed: int = 0,
        noise_std: Param = 0.0,
        integrator: str = PLAIN_DEFAULT_INTEGRATOR,
    ):
        for name, value in (("n_in", n_in), ("n1", n1), ("n2", n2)):
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        rng = np.random.default_rng(seed)
        sig = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731
        self.u1 = rng.standard_normal((n_in, n1))
        self.u2 = rng.standard_normal((n1, n2))
        r2_true = rng.standard_normal(n2)
        self.stimulus = sig(self.u1 @ sig(self.u2 @ r2_true))
        self.n1, self.n2 = n1, n2
        self.tau, self.sigma0_sq, self.sigma1_sq, self.alpha = tau, sigma0_sq, sigma1_sq, alpha
        self.noise_std = noise_std
        self.integrator = integrator

    @property
    def state_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(f"r1_{i}" for i in range(self.n1)) + tuple(f"r2_{i}" for i in range(self.n2))

    def errors(self, y: State, current: ScalarLike = 0.0):
        r1, r2 = y[: self.n1], y[self.n1 :]
        e0 = self.stimulus + current - jax.nn.sigmoid(self.u1 @ r1)
        e1 = r1 - jax.nn.sigmoid(self.u2 @ r2)
        return e0, e1

    def energy(self, y: State, current: ScalarLike = 0.0):
        """The free energy E the dynamics descend (dimensionless)."""
        e0, e1 = self.errors(y, current)
        return (
            jnp.sum(e0 * e0) / (2.0 * self.sigma0_sq)
            + jnp.sum(e1 * e1) / (2.0 * self.sigma1_sq)
            + 0.5 * self.alpha * jnp.sum(y * y)
        )

    def vector_field(self, t: ScalarLike, y: State, current: ScalarLike) -> State:
        del t
        r1, r2 = y[: self.n1], y[self.n1 :]
        a1, a2 = self.u1 @ r1, self.u2 @ r2
        s1, s2 = jax.nn.sigmoid(a1), jax.nn.sigmoid(a2)
        e0 = self.stimulus + current - s1
        e1 = r1 - s2
        dr1 = (
            self.u1.T @ (s1 * (1.0 - s1) * e0) / self.sigma0_sq
            - e1 / self.sigma1_sq
            - self.alpha * r1
        )
        dr2 = self.u2.T @ (s2 * (1.0 - s2) * e1) / self.sigma1_sq - self.alpha * r2
        return jnp.concatenate([dr1, dr2]) / self.tau

    def initial_state(self) -> State:
        return jnp.zeros(self.n1 + self.n2, dtype=jnp.result_type(float))
