"""Surrogate gradients for the spike threshold (Neftci, Mostafa & Zenke 2019).

The forward pass is the exact Heaviside step H(x) (x = v − threshold); the derivative used by
`jax.grad` / `jax.jvp` is the derivative of a smooth stand-in with slope parameter `slope`
(per unit of x; larger = sharper). With `surrogate=None` the threshold has zero derivative, as
`jnp.where` gives.
"""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp


class AbstractSurrogate(eqx.Module):
    """A Heaviside step whose derivative is replaced by `derivative(x)`.

    `detach_reset=True` keeps the surrogate on the spike signal but stops it from flowing
    through the reset of resetting models (Zenke & Vogels 2021, "The remarkable robustness of
    surrogate gradient learning"); otherwise the reset contributes surrogate × (the jump at
    threshold).
    """

    slope: eqx.AbstractVar[float]
    detach_reset: eqx.AbstractVar[bool]

    @abc.abstractmethod
    def derivative(self, x):
        """The surrogate dH/dx at x."""

    def heaviside(self, x):
        """H(x) = 1.0 where x ≥ 0 else 0.0 (in x's dtype), with the surrogate derivative."""
        return _heaviside(self, x)


@jax.custom_jvp
def _heaviside(surrogate, x):
    return jnp.where(x >= 0, 1.0, 0.0).astype(x.dtype)


@_heaviside.defjvp
def _heaviside_jvp(primals, tangents):
    surrogate, x = primals
    _, dx = tangents
    return _heaviside(surrogate, x), surrogate.derivative(x) * dx


class SigmoidSurrogate(AbstractSurrogate):
    """d/dx σ(slope·x) = slope·σ(slope·x)(1 − σ(slope·x)) (Zenke & Ganguli 2018)."""

    slope: float = 5.0
    detach_reset: bool = eqx.field(static=True, default=False)

    def derivative(self, x):
        s = jax.nn.sigmoid(self.slope * x)
        return self.slope * s * (1.0 - s)


class FastSigmoidSurrogate(AbstractSurrogate):
    """1 / (1 + slope·|x|)² (SuperSpike, Zenke & Ganguli 2018)."""

    slope: float = 5.0
    detach_reset: bool = eqx.field(static=True, default=False)

    def derivative(self, x):
        return 1.0 / (1.0 + self.slope * jnp.abs(x)) ** 2


def surrogate_from_name(name, slope: float = 5.0):
    """`"sigmoid"`, `"fast_sigmoid"`, an `AbstractSurrogate`, or None."""
    if name is None or isinstance(name, AbstractSurrogate):
        return name
    if name == "sigmoid":
        return SigmoidSurrogate(slope)
    if name == "fast_sigmoid":
        return FastSigmoidSurrogate(slope)
    raise ValueError(
        f"surrogate must be 'sigmoid', 'fast_sigmoid', None or an AbstractSurrogate, got {name!r}"
    )
