"""Loss functions for fitting neuron models (the public face of `scjax.fitting`'s losses).

See `scjax.fitting._losses` for the table of losses and their definitions.
"""

from .fitting._losses import (
    exponential_filter as exponential_filter,
    fi_curve as fi_curve,
    fi_curve_loss as fi_curve_loss,
    firing_rate as firing_rate,
    firing_rate_of as firing_rate_of,
    spike_count as spike_count,
    spike_times_to_signal as spike_times_to_signal,
    step_currents as step_currents,
    subgrid_spike_times as subgrid_spike_times,
    trace_mse as trace_mse,
    van_rossum as van_rossum,
    van_rossum_times as van_rossum_times,
)

__all__ = [
    "exponential_filter", "fi_curve", "fi_curve_loss", "firing_rate", "firing_rate_of",
    "spike_count", "spike_times_to_signal", "step_currents", "subgrid_spike_times", "trace_mse",
    "van_rossum", "van_rossum_times",
]
