"""Bijections between an unconstrained learning space and a parameter's valid range.

`scjax.fit` runs the optimiser on an unconstrained real `u` per parameter and writes
`p = transform.forward(u)` into the model, so no optimisation step can leave the valid range
(a conductance or time constant stays positive however large the step). Every transform is
scaled by a characteristic magnitude `scale` of the parameter (by default the magnitude of the
initial guess), so that one optimiser step of size η in `u` changes `p` by about η·|p|: a single
learning rate then suits parameters as different as Izhikevich's a = 0.02 and c = −65 mV.

| transform | p = forward(u) | range | inverse |
|---|---|---|---|
| `Affine(scale, offset)` | offset + scale·u | ℝ | (p − offset)/scale |
| `Softplus(scale, low)` | low + scale·softplus(u) | (low, ∞) | softplus⁻¹((p − low)/scale) |
| `Exp(scale)` | scale·exp(u) | (0, ∞) | log(p/scale) |
| `Sigmoid(low, high)` | low + (high − low)·σ(u) | (low, high) | logit((p − low)/(high − low)) |

softplus(u) = log(1 + eᵘ) ≈ eᵘ for u → −∞ and ≈ u for u → +∞, so far from its lower bound a
softplus-parametrised value moves additively and near it multiplicatively (it can approach but
never reach or cross `low`). `default_transform` picks `Softplus` for the fields known to be
positive (conductances, capacitances, time constants, slope factors) in the model's
`param_domains` and `Affine` otherwise.
"""

import abc
import math

import equinox as eqx
import jax
import jax.numpy as jnp


class AbstractTransform(eqx.Module):
    """A bijection `forward: ℝ → range` with its inverse; both elementwise and differentiable."""

    @abc.abstractmethod
    def forward(self, u):
        """The parameter value for the unconstrained value `u`."""

    @abc.abstractmethod
    def inverse(self, p):
        """The unconstrained value of the parameter value `p` (which must lie in the range)."""

    @abc.abstractmethod
    def contains(self, p: float) -> bool:
        """Whether the concrete value `p` lies strictly inside the range."""


def _check_scale(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite float, got {value!r}")


class Affine(AbstractTransform):
    """p = offset + scale·u: unconstrained, only rescaled (for signed parameters such as
    reversal or reset potentials)."""

    scale: float = 1.0
    offset: float = 0.0

    def __check_init__(self):
        _check_scale("scale", self.scale)

    def forward(self, u):
        return self.offset + self.scale * u

    def inverse(self, p):
        return (p - self.offset) / self.scale

    def contains(self, p: float) -> bool:
        return math.isfinite(p)


class Softplus(AbstractTransform):
    """p = low + scale·softplus(u), range (low, ∞) (Dugas et al. 2001; the usual positivity
    map for conductances and time constants in differentiable neuroscience, e.g. jaxley)."""

    scale: float = 1.0
    low: float = 0.0

    def __check_init__(self):
        _check_scale("scale", self.scale)

    def forward(self, u):
        return self.low + self.scale * jax.nn.softplus(u)

    def inverse(self, p):
        x = (p - self.low) / self.scale
        # softplus⁻¹(x) = log(expm1(x)) = x + log(−expm1(−x)); the second form does not
        # overflow for large x.
        return x + jnp.log(-jnp.expm1(-x))

    def contains(self, p: float) -> bool:
        return math.isfinite(p) and p > self.low


class Exp(AbstractTransform):
    """p = scale·exp(u), range (0, ∞): log-space learning (every step is a relative change)."""

    scale: float = 1.0

    def __check_init__(self):
        _check_scale("scale", self.scale)

    def forward(self, u):
        return self.scale * jnp.exp(u)

    def inverse(self, p):
        return jnp.log(p / self.scale)

    def contains(self, p: float) -> bool:
        return math.isfinite(p) and p > 0


class Sigmoid(AbstractTransform):
    """p = low + (high − low)·σ(u), range (low, high), σ the logistic function."""

    low: float
    high: float

    def __check_init__(self):
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.high > self.low):
            raise ValueError(f"need finite low < high, got low={self.low}, high={self.high}")

    def forward(self, u):
        return self.low + (self.high - self.low) * jax.nn.sigmoid(u)

    def inverse(self, p):
        x = (p - self.low) / (self.high - self.low)
        return jnp.log(x) - jnp.log1p(-x)

    def contains(self, p: float) -> bool:
        return math.isfinite(p) and self.low < p < self.high


def default_transform(model, name: str, value: float) -> AbstractTransform:
    """The transform `scjax.fit` uses for `model.name` when none is given, from the model's
    declared `param_domains`: `Softplus(scale)` for a positive or non-negative parameter,
    `Sigmoid(low, high)` for a bounded interval, `Softplus(scale, low)` for a lower bound only,
    `Affine(scale)` for a real one; `scale = |value|` (1 for a zero `value`)."""
    scale = abs(float(value)) or 1.0
    domain = model.param_domains.get(name)
    if domain is None or domain.kind == "real":
        return Affine(scale=scale)
    if domain.kind in ("positive", "nonnegative"):
        return Softplus(scale=scale)
    if math.isfinite(domain.low) and math.isfinite(domain.high):
        return Sigmoid(low=domain.low, high=domain.high)
    if math.isfinite(domain.low):
        return Softplus(scale=scale, low=domain.low)
    return Affine(scale=scale)
