"""The fixed-step simulation loop: one `jax.lax.scan` for every model, solver and stimulus.

`simulate` (one neuron) and `simulate_batch` (B neurons, state-major carry) are the public
fronts; both check their inputs at the boundary and run the same compiled loop.
"""

from ._blocked import BlockedLoop as BlockedLoop
from ._events import EVENT_MODES as EVENT_MODES
from ._events import InStepEvents as InStepEvents
from ._expm1_substitution import EXPM1_IMPLEMENTATIONS as EXPM1_IMPLEMENTATIONS
from ._loop_options import LOOPS as LOOPS
from ._pallas import PallasLoop as PallasLoop
from ._recording import SPIKE_RECORDINGS as SPIKE_RECORDINGS
from ._simulate import simulate as simulate
from ._simulate import simulate_batch as simulate_batch
