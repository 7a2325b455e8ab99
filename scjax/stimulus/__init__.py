"""Stimuli: injected currents as small pytrees evaluated inside the fixed-step loop.

Each is an `eqx.Module` whose parameters are scalars (shared) or `[B]` arrays (one per neuron),
so a batch of 10⁶ neurons with its own constant current needs 10⁶ numbers, not 10⁶ × T.
Sample n is evaluated at t_n = t0 + n·dt and holds over [t_n, t_n + dt). Stimuli add with `+`.

    import scjax
    I = scjax.stimulus.Constant(jnp.linspace(5, 15, 10_000)) \\
        + scjax.stimulus.OrnsteinUhlenbeck(mean=0.0, std=1.0, tau=5.0)
    tr = scjax.simulate_batch(model, I, dt=0.1, n_steps=10_000, spikes="count", key=key)
"""

from ._base import AbstractStimulus as AbstractStimulus
from ._base import Sum as Sum
from ._deterministic import (
    AbstractDeterministicStimulus as AbstractDeterministicStimulus,
)
from ._deterministic import (
    Constant as Constant,
)
from ._deterministic import (
    Pulse as Pulse,
)
from ._deterministic import (
    Ramp as Ramp,
)
from ._deterministic import (
    Sine as Sine,
)
from ._deterministic import (
    Step as Step,
)
from ._noise import (
    AbstractNoiseStimulus as AbstractNoiseStimulus,
)
from ._noise import (
    OrnsteinUhlenbeck as OrnsteinUhlenbeck,
)
from ._noise import (
    WhiteNoise as WhiteNoise,
)
from ._sampled import Sampled as Sampled
from ._sampling import sample_trace as sample_trace
