"""The abstract neuron model: what every scjax model provides, and the threshold/reset rules.

Follows the equinox abstract/final pattern: `AbstractNeuronModel` declares what a model must
define; `AbstractResettingModel` (integrate-and-fire style: threshold then reset) and
`AbstractCrossingModel` (smooth oscillators: report upward threshold crossings) implement the
spike rule once, and concrete models never override a concrete method.
"""

import abc
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar, Self

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp

from .._custom_types import Param, Scalar, ScalarLike, State
from .._integrators import CONDUCTANCE_INTEGRATOR_NAMES, INTEGRATOR_NAMES
from .._validation import check_finite_param, check_in_domain
from ._domain import Domain

#: Integrator names a model accepts (`scjax.solvers.solver_from_name` maps them to solvers).
INTEGRATORS: tuple[str, ...] = INTEGRATOR_NAMES
#: The names only conductance-based models accept (`scjax.solvers.ExponentialEuler` needs
#: their `linear_coefficients`, see `AbstractConductanceModel`).
CONDUCTANCE_INTEGRATORS: tuple[str, ...] = CONDUCTANCE_INTEGRATOR_NAMES


class AbstractNeuronModel(eqx.Module):
    """A single-compartment neuron model: an ODE in a 1-D state vector, driven by a current.

    Concrete models are `eqx.Module`s whose physical parameters are float fields (pytree
    leaves: differentiable with `jax.grad`, batchable with `jax.vmap`), plus two non-physical
    fields: `noise_std` (Gaussian current noise per sample, drawn from a `key` given to
    `scjax.simulate`) and the static `integrator` name used when `simulate` gets no `solver`.

    Class attributes:
        state_names: names of the state components, in order.
        param_names: the physical parameters, in field order (this is also the parameter order
            of the native C ABI).
        fast_state_names: the components `HalfEuler` advances first, in two half steps.
        spike_state: the component tested against the threshold.
        param_domains: the physical range and units of each parameter (`Domain.positive("ms")`,
            ...); a parameter not listed is any finite real. The constructor refuses concrete
            values outside it (every element of a 1-D batch), `scjax.fit` keeps positive ones
            positive, and `scjax.models.domain_table` renders it for the docs. Values traced
            under `jax.jit`/`vmap`/`grad` cannot be checked at construction; the loop
            (`simulate`, `fit`) checks their run-time consequences instead.
    """

    state_names: eqx.AbstractClassVar[tuple[str, ...]]
    param_names: eqx.AbstractClassVar[tuple[str, ...]]
    fast_state_names: eqx.AbstractClassVar[tuple[str, ...]]
    spike_state: eqx.AbstractClassVar[str]
    #: The model's name in the C ABI of native/include/scjax_native.h (the parameter order
    #: there is `param_names`), or None when the native libraries do not implement it.
    native_name: ClassVar[str | None] = None
    #: The system's name in the reference suite (`scjax.adaptive.SYSTEMS`), its golden trace
    #: (`reference/data/<name>.npz`), the Julia scripts and the parity suite; None for models
    #: outside the suite.
    system_name: ClassVar[str | None] = None
    #: Array-valued parameter fields (besides the scalar `param_names`), in the order the
    #: Julia scripts receive them.
    array_param_names: ClassVar[tuple[str, ...]] = ()
    param_domains: eqx.AbstractClassVar[Mapping[str, Domain]]
    #: Named parameter sets from the model's papers (Izhikevich's cell classes, Naud's AdEx
    #: firing patterns): name → field values, built by `preset(name)`. Empty for models
    #: without any.
    presets: ClassVar[Mapping[str, Mapping[str, float]]] = MappingProxyType({})
    noise_std: eqx.AbstractVar[Param]
    integrator: eqx.AbstractVar[str]

    def __check_init__(self):
        if self.integrator not in INTEGRATORS:
            raise ValueError(f"integrator must be one of {INTEGRATORS}, got {self.integrator!r}")
        if self.integrator in CONDUCTANCE_INTEGRATORS:
            from ._conductance import AbstractConductanceModel, conductance_model_names

            if not isinstance(self, AbstractConductanceModel):
                raise ValueError(
                    f"integrator={self.integrator!r} needs a conductance-based model (one that "
                    f"declares linear_coefficients); {type(self).__name__} is not. Models that "
                    f"support it: {conductance_model_names()}"
                )
        owner = type(self).__name__
        for name in self.param_names:
            value = getattr(self, name)
            check_finite_param(name, value)
            if name in self.param_domains:
                check_in_domain(f"{owner}: {name}", value, self.param_domains[name])
        check_finite_param("noise_std", self.noise_std, nonnegative=True)

    @abc.abstractmethod
    def vector_field(self, t: ScalarLike, y: State, current: ScalarLike) -> State:
        """dy/dt at time `t` (ms) for state `y` under a constant injected `current`."""

    @abc.abstractmethod
    def initial_state(self) -> State:
        """The documented resting/initial state, shape `[n_state]`."""

    @abc.abstractmethod
    def spike_threshold(self) -> Param:
        """The value of `spike_state` at which a spike is counted."""

    @abc.abstractmethod
    def spike_and_reset(self, y_prev: State, y_next: State, surrogate=None) -> tuple[State, Scalar]:
        """Given the states before and after one step, return (state to keep, spike).

        With `surrogate=None` spike is a bool. With a `scjax.AbstractSurrogate` it is 1.0 or
        0.0 in the state's dtype and carries the surrogate derivative, as does the reset it
        triggers."""

    # --- concrete, shared by every model -------------------------------------------------

    @classmethod
    def preset(cls, name: str, **kwargs) -> Self:
        """The model with the field values of the named parameter set `presets[name]`;
        `kwargs` set further fields (or override the preset's)."""
        if name not in cls.presets:
            if not cls.presets:
                raise ValueError(f"name: {cls.__name__} has no presets, got {name!r}")
            raise ValueError(f"name must be one of {tuple(cls.presets)}, got {name!r}")
        return cls(**{**cls.presets[name], **kwargs})

    @property
    def n_state(self) -> int:
        return len(self.state_names)

    @property
    def spike_index(self) -> int:
        return self.state_names.index(self.spike_state)

    @property
    def fast_mask(self) -> tuple[bool, ...]:
        """Per-component flag: True for the components `HalfEuler` half-steps first."""
        return tuple(name in self.fast_state_names for name in self.state_names)

    def params(self) -> dict[str, Param]:
        """The physical parameters as a name → value dict, in `param_names` order."""
        return {name: getattr(self, name) for name in self.param_names}

    def param_vector(self) -> Scalar:
        """The physical parameters stacked into one array (the native ABI's order)."""
        return jnp.stack([jnp.asarray(getattr(self, n)) for n in self.param_names])

    def term(self) -> diffrax.ODETerm:
        """The model as a diffrax term; `args` is the (piecewise-constant) current."""
        return diffrax.ODETerm(self.vector_field)


class AbstractUpstrokeModel(AbstractNeuronModel):
    """A model whose spike upstroke is explosive (quadratic, exponential or Na⁺-driven).

    A linearly implicit (Rosenbrock) step has a pole where γ·dt·rate = 1 and stalls or
    reverses the upstroke near it, silently losing spikes; `scjax.simulate` refuses such
    steps using `upstroke_rate()` (see `docs/conventions.md`).
    """

    @abc.abstractmethod
    def upstroke_rate(self) -> Scalar | float:
        """The largest rate (1/ms) of the upstroke's linearisation."""


class AbstractDiscreteTimeModel(AbstractNeuronModel):
    """A discrete-time update built for one step size `dt` and applied as one Euler step
    (e.g. `FixedPointLIF`): `scjax.simulate` refuses any other dt or solver."""

    dt: eqx.AbstractVar[Param]


class AbstractResettingModel(AbstractNeuronModel):
    """A model with a hard threshold and reset: when `y[spike_state] >= spike_threshold()`
    after a step, the state is replaced by `reset(y)` and a spike is counted."""

    @abc.abstractmethod
    def reset(self, y: State) -> State:
        """The reset map applied after a threshold crossing."""

    def spike_and_reset(self, y_prev: State, y_next: State, surrogate=None):
        del y_prev
        x = y_next[self.spike_index] - self.spike_threshold()
        if surrogate is None:
            spike = x >= 0
            return jnp.where(spike, self.reset(y_next), y_next), spike
        spike = surrogate.heaviside(x)
        # Forward: exactly the hard reset (y + s·(reset(y) − y) would cancel catastrophically
        # when an Euler step overshoots to 1e10 mV). Backward: the surrogate derivative times
        # the jump measured *at the threshold*, i.e. the physical jump (v_reset − v_peak,
        # +b, ...), not the overshoot-dependent reset(y_next) − y_next.
        hard = jnp.where(spike > 0.5, self.reset(y_next), y_next)
        if surrogate.detach_reset:
            return hard, spike
        i = self.spike_index
        at_threshold = y_next.at[i].set(jnp.minimum(y_next[i], self.spike_threshold()))
        jump = self.reset(at_threshold) - at_threshold
        return hard + (spike - jax.lax.stop_gradient(spike)) * jump, spike


class AbstractCrossingModel(AbstractNeuronModel):
    """A smooth model without reset: a spike is an upward crossing of `spike_threshold()`
    between consecutive samples (strictly below before, at or above after)."""

    def spike_and_reset(self, y_prev: State, y_next: State, surrogate=None):
        i = self.spike_index
        threshold = self.spike_threshold()
        if surrogate is None:
            spike = (y_prev[i] < threshold) & (y_next[i] >= threshold)
            return y_next, spike
        above_now = surrogate.heaviside(y_next[i] - threshold)
        above_before = surrogate.heaviside(y_prev[i] - threshold)
        return y_next, above_now * (1.0 - above_before)


def exprel(z):
    """(exp(z) - 1) / z, equal to 1 at z = 0, with finite value and derivatives everywhere.

    Used for the Hodgkin–Huxley rates α = k·x / (1 − exp(−x/s)), whose removable singularity at
    x = 0 would otherwise give 0/0. The branch point |z| < 1e-6 uses the Taylor polynomial
    1 + z/2 + z²/6 (truncation error < 1e-18 there); the "double where" keeps the unused branch
    from producing NaN gradients. The native libraries use the same rule and threshold.
    """
    small = jnp.abs(z) < 1e-6
    z_safe = jnp.where(small, 1.0, z)
    return jnp.where(small, 1.0 + z / 2.0 + z * z / 6.0, jnp.expm1(z_safe) / z_safe)
