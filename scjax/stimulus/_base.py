"""The abstract stimulus: an injected current evaluated inside the fixed-step loop."""

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int, PyTree

from .._validation import check_finite_param

#: A stimulus parameter: a scalar (shared by every neuron) or a 1-D array `[B]` (one per neuron).
StimulusParam = float | Float[ArrayLike, ""] | Float[ArrayLike, " B"]


class AbstractStimulus(eqx.Module):
    """An injected current I(t) sampled once per step of a fixed-step run.

    Sample n is evaluated at the step's left end t_n = t0 + n·dt and holds over
    [t_n, t_n + dt): the piecewise-constant convention of every scjax backend (parity with the
    native libraries depends on it). Parameters are scalars or `[B]` arrays (one value per
    neuron of `scjax.simulate_batch`); a sample is then a scalar or `[B]`.

    Stimuli add: `Constant(5.0) + Pulse(onset=100, duration=50, amplitude=[...])`.

    A concrete stimulus implements `init` (its random or filter state; `None` when it has
    none) and `sample` (the current of step n and the next state). Stochastic stimuli draw
    from a per-neuron key, so neuron i of a batch sees the same noise as a single-neuron run
    given that neuron's key (`jax.random.split(key, B)[i]`).
    """

    #: The rank of one neuron's value of each parameter: 0 (a number), 1 for sampled traces
    #: (`[T]`). A parameter with one more axis holds one value per neuron (`[B]`, `[B, T]`).
    sample_rank: ClassVar[int] = 0

    @abc.abstractmethod
    def init(self, key: jax.Array | None, dt: Float[Array, ""]) -> PyTree:
        """The state carried from step to step (`None` for deterministic stimuli)."""

    @abc.abstractmethod
    def sample(
        self, n: Int[Array, ""], t: Float[Array, ""], dt: Float[Array, ""], state: PyTree
    ) -> tuple[Float[Array, "*B"], PyTree]:
        """(the current of step n, which starts at time t; the state for step n + 1)."""

    @property
    def is_stochastic(self) -> bool:
        """True when `init` needs a PRNG key."""
        return False

    @property
    def n_samples(self) -> int | None:
        """The number of steps the stimulus defines (a sampled trace), None if unbounded."""
        return None

    def batch_axes(self) -> "AbstractStimulus":
        """A pytree like `self` with 0 on the per-neuron parameters and None elsewhere (the
        `in_axes` of `jax.vmap` over the neurons of a batch)."""
        if isinstance(self, Sum):
            return Sum(tuple(term.batch_axes() for term in self.terms))
        return jax.tree.map(lambda x: 0 if np.ndim(x) > self.sample_rank else None, self)

    def batch_size(self) -> int | None:
        """The common length B of the per-neuron parameters, None when all are shared."""
        sizes = {np.shape(x)[0] for x, a in _leaves_with_axes(self) if a == 0}
        if len(sizes) > 1:
            raise ValueError(
                f"{type(self).__name__}: per-neuron parameters must share one "
                f"length B, got lengths {sorted(sizes)}"
            )
        return sizes.pop() if sizes else None

    def __add__(self, other: "AbstractStimulus") -> "Sum":
        if not isinstance(other, AbstractStimulus):
            return NotImplemented
        left = self.terms if isinstance(self, Sum) else (self,)
        right = other.terms if isinstance(other, Sum) else (other,)
        return Sum(left + right)


def _leaves_with_axes(stimulus) -> list[tuple[ArrayLike, int | None]]:
    """(leaf, 0 if it holds one value per neuron else None) for every parameter."""
    terms = stimulus.terms if isinstance(stimulus, Sum) else (stimulus,)
    return [
        (leaf, 0 if np.ndim(leaf) > term.sample_rank else None)
        for term in terms
        for leaf in jax.tree.leaves(term)
    ]


class Sum(AbstractStimulus):
    """The sum of several stimuli, sampled at the same step (built by `+`)."""

    terms: tuple[AbstractStimulus, ...]

    def __check_init__(self):
        if not self.terms or not all(isinstance(s, AbstractStimulus) for s in self.terms):
            raise ValueError(f"terms must be a non-empty tuple of stimuli, got {self.terms!r}")

    def init(self, key, dt):
        keys = [None] * len(self.terms) if key is None else jax.random.split(key, len(self.terms))
        return tuple(s.init(k, dt) for s, k in zip(self.terms, keys))

    def sample(self, n, t, dt, state):
        total, states = None, []
        for s, st in zip(self.terms, state):
            value, st = s.sample(n, t, dt, st)
            total = value if total is None else total + value
            states.append(st)
        return total, tuple(states)

    @property
    def is_stochastic(self) -> bool:
        return any(s.is_stochastic for s in self.terms)

    @property
    def n_samples(self) -> int | None:
        lengths = {s.n_samples for s in self.terms if s.n_samples is not None}
        if len(lengths) > 1:
            raise ValueError(f"terms: sampled traces of different lengths {sorted(lengths)}")
        return lengths.pop() if lengths else None


def check_param(owner: str, name: str, value, *, positive=False, nonnegative=False) -> None:
    """A stimulus parameter, checked as model parameters are (`check_finite_param`), the
    message naming the stimulus class `owner`."""
    check_finite_param(f"{owner}: {name}", value, positive=positive, nonnegative=nonnegative)


def as_param(value):
    """A parameter as a JAX array, keeping weak typing for Python scalars (so the run's
    dtype decides)."""
    return value if isinstance(value, (int, float)) else jnp.asarray(value)
