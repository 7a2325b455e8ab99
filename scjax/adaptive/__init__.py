"""The in-process adaptive reference: diffrax Tsit5 (or Rodas5P) with event-exact resets.

`solve` is the numerical ground truth every fixed-step path is judged against: smooth systems
are integrated adaptively at tight tolerance (rtol 1e-8, atol 1e-10) and sampled on a uniform
grid (every 0.1 ms by default: the seed's dense output); resetting models (LIF, Izhikevich,
AdEx) are integrated event-exactly (threshold root-found, reset applied there, integration
restarted); crossing models (HH, FHN, Morris–Lecar) get root-found upward crossings.

Spike times come back to root-finder accuracy in `Solution.spike_times`; the grid trajectory is
a `scjax.Trajectory` of the same schema as `scjax.simulate`'s. The SciPy and Julia backends
return the same `Solution`. `SYSTEMS` is the fourteen-system reference suite.
"""

from ._arguments import MAX_SAMPLES as MAX_SAMPLES
from ._compile import CPU_COMPILER_OPTIONS as CPU_COMPILER_OPTIONS
from ._event_solve import (
    DTMIN as DTMIN,
)
from ._event_solve import (
    WINDOW_BYTES as WINDOW_BYTES,
)
from ._event_solve import (
    WINDOW_LARGE as WINDOW_LARGE,
)
from ._event_solve import (
    WINDOW_MAX_STATE as WINDOW_MAX_STATE,
)
from ._solution import RESULTS as RESULTS
from ._solution import Solution as Solution
from ._solution import spike_raster as spike_raster
from ._solve import MAX_SPIKES as MAX_SPIKES
from ._solve import MAX_STEPS as MAX_STEPS
from ._solve import solve as solve
from ._suite import SYSTEMS as SYSTEMS
from ._suite import System as System
