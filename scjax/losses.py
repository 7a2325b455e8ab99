"""Loss functions for fitting neuron models; each is a plain differentiable JAX function.

They take a predicted `scjax.Trajectory` (or the array it holds) and a target, and return a
scalar. The spike-based losses read `Trajectory.spike_signal`, which is 0/1 in the forward pass
and carries the surrogate derivative when the trajectory came from
`scjax.simulate(..., surrogate="sigmoid" | "fast_sigmoid" | AbstractSurrogate)`; without a
surrogate their gradient with respect to the parameters is zero almost everywhere (a spike
count is piecewise constant).

| loss | value | typical use |
|---|---|---|
| `trace_mse` | mean (v − v*)², optionally sub-threshold samples only | smooth models, recordings |
| `van_rossum` | squared van Rossum (2001) distance of the spike trains, kernel τ | spike timing |
| `spike_count` | (N − N*)² | spike count |
| `firing_rate` | (r − r*)², r in Hz | mean rate |
| `fi_curve_loss` | mean over currents of (r_k − r_k*)² | F–I curve over current traces |
| `spike_time_mse` | mean (t_k − t_k*)², trains padded to the window end | in-step spike times |
| `van_rossum_times` | closed-form van Rossum distance of masked spike times | sub-step times |

All of them work on their own, e.g.
`losses.van_rossum(scjax.simulate(m, I, dt, surrogate="sigmoid"), target_signal, dt, tau=5.0)`.
`scjax.fit(loss="...")` uses them by name.

Spike times located inside the step (`scjax.simulate(..., events="in_step", spikes="times")`)
are differentiable without a surrogate: `located_spike_times(trajectory)` gives them as
(times, mask) for `spike_time_mse` and `van_rossum_times`; `scjax.fit(events="in_step")` uses
them for `loss="spike_times"` and `loss="van_rossum"`.
"""

from .fitting._losses import (
    exponential_filter as exponential_filter,
)
from .fitting._losses import (
    fi_curve as fi_curve,
)
from .fitting._losses import (
    fi_curve_loss as fi_curve_loss,
)
from .fitting._losses import (
    firing_rate as firing_rate,
)
from .fitting._losses import (
    firing_rate_of as firing_rate_of,
)
from .fitting._losses import (
    located_spike_times as located_spike_times,
)
from .fitting._losses import (
    spike_count as spike_count,
)
from .fitting._losses import (
    spike_time_mse as spike_time_mse,
)
from .fitting._losses import (
    spike_times_to_signal as spike_times_to_signal,
)
from .fitting._losses import (
    step_currents as step_currents,
)
from .fitting._losses import (
    subgrid_spike_times as subgrid_spike_times,
)
from .fitting._losses import (
    trace_mse as trace_mse,
)
from .fitting._losses import (
    van_rossum as van_rossum,
)
from .fitting._losses import (
    van_rossum_times as van_rossum_times,
)

__all__ = [
    "exponential_filter",
    "fi_curve",
    "fi_curve_loss",
    "firing_rate",
    "firing_rate_of",
    "located_spike_times",
    "spike_count",
    "spike_time_mse",
    "spike_times_to_signal",
    "step_currents",
    "subgrid_spike_times",
    "trace_mse",
    "van_rossum",
    "van_rossum_times",
]
