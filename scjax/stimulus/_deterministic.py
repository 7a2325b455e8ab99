"""Deterministic stimuli: constant, pulse, ramp and sinusoid, with per-neuron parameters."""

import abc

import jax.numpy as jnp

from ._base import AbstractStimulus, StimulusParam, check_param


class AbstractDeterministicStimulus(AbstractStimulus):
    """A stimulus that is a function of time only: I_n = current(t_n)."""

    def init(self, key, dt):
        return None

    def sample(self, n, t, dt, state):
        return self.current(t), None

    @abc.abstractmethod
    def current(self, t):
        """I(t) at the step's left end t (ms)."""


class Constant(AbstractDeterministicStimulus):
    """I(t) = amplitude.

    Arguments:
        amplitude: the current in the model's units (µA/cm² for HH, pA for AdEx, the
            dimensionless scale of Izhikevich 2003); scalar or `[B]`.
    """

    amplitude: StimulusParam

    def __check_init__(self):
        check_param("Constant", "amplitude", self.amplitude)

    def current(self, t):
        return jnp.asarray(self.amplitude) + jnp.zeros_like(t)


class Pulse(AbstractDeterministicStimulus):
    """A rectangular pulse: I(t) = amplitude for onset ≤ t < onset + duration, else 0.

    A step current is a pulse with `duration=jnp.inf`. Pulse trains are sums of pulses.
    Every argument is a scalar or `[B]`; onset and duration in ms.
    """

    onset: StimulusParam
    duration: StimulusParam
    amplitude: StimulusParam

    def __check_init__(self):
        check_param("Pulse", "onset", self.onset)
        check_param("Pulse", "amplitude", self.amplitude)
        if not (isinstance(self.duration, float) and self.duration == float("inf")):
            check_param("Pulse", "duration", self.duration, nonnegative=True)

    def current(self, t):
        on = (t >= self.onset) & (t < jnp.asarray(self.onset) + self.duration)
        return jnp.where(on, jnp.asarray(self.amplitude), 0.0).astype(t.dtype)


def Step(onset: StimulusParam, amplitude: StimulusParam) -> Pulse:  # noqa: N802 (a constructor)
    """A step current switched on at `onset` (ms) and never off."""
    return Pulse(onset=onset, duration=float("inf"), amplitude=amplitude)


class Ramp(AbstractDeterministicStimulus):
    """A linear ramp: 0 before `onset`, then slope·(t − onset), held at its value from
    `onset + duration` on (slope in current units per ms).
    """

    onset: StimulusParam
    duration: StimulusParam
    slope: StimulusParam

    def __check_init__(self):
        check_param("Ramp", "onset", self.onset)
        check_param("Ramp", "duration", self.duration, nonnegative=True)
        check_param("Ramp", "slope", self.slope)

    def current(self, t):
        elapsed = jnp.clip(t - self.onset, 0.0, jnp.asarray(self.duration, t.dtype))
        return (jnp.asarray(self.slope) * elapsed).astype(t.dtype)


class Sine(AbstractDeterministicStimulus):
    """I(t) = offset + amplitude·sin(2π·frequency·t/1000 + phase), frequency in Hz, t in ms."""

    amplitude: StimulusParam
    frequency: StimulusParam
    phase: StimulusParam = 0.0
    offset: StimulusParam = 0.0

    def __check_init__(self):
        check_param("Sine", "amplitude", self.amplitude)
        check_param("Sine", "frequency", self.frequency, nonnegative=True)
        check_param("Sine", "phase", self.phase)
        check_param("Sine", "offset", self.offset)

    def current(self, t):
        angle = 2.0 * jnp.pi * jnp.asarray(self.frequency) * t / 1000.0 + self.phase
        return (self.offset + self.amplitude * jnp.sin(angle)).astype(t.dtype)
