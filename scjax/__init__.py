"""scjax: a differentiable simulator of neuron models.

Models are Equinox modules (`scjax.models`), integrators are Diffrax solvers
(`scjax.solvers`), and `scjax.simulate` runs the fixed-step loop under `jax.lax.scan`.
scjax never changes global JAX configuration: enable float64 yourself with
`jax.config.update("jax_enable_x64", True)` where parity is claimed.
"""

import importlib.metadata

from . import adaptive as adaptive
from . import analysis as analysis
from . import fitting as fitting
from . import losses as losses
from . import models as models
from . import solvers as solvers
from . import stimulus as stimulus
from ._sharding import (
    batch_sharding as batch_sharding,
)
from ._sharding import (
    gather as gather,
)
from ._sharding import (
    shard_batch as shard_batch,
)
from ._surrogate import (
    AbstractSurrogate as AbstractSurrogate,
)
from ._surrogate import (
    FastSigmoidSurrogate as FastSigmoidSurrogate,
)
from ._surrogate import (
    SigmoidSurrogate as SigmoidSurrogate,
)
from ._trajectory import Trajectory as Trajectory
from .fitting import FitResult as FitResult
from .fitting import fit as fit
from .models import (
    LIF as LIF,
)
from .models import (
    AdEx as AdEx,
)
from .models import (
    FitzHughNagumo as FitzHughNagumo,
)
from .models import (
    HodgkinHuxley as HodgkinHuxley,
)
from .models import (
    Izhikevich as Izhikevich,
)
from .models import (
    MorrisLecar as MorrisLecar,
)
from .simulation import simulate as simulate
from .simulation import simulate_batch as simulate_batch

try:
    __version__ = importlib.metadata.version("scjax")
except importlib.metadata.PackageNotFoundError:  # run from a source tree (PYTHONPATH=.)
    __version__ = "0+unknown"
