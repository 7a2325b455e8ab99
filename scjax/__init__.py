"""scjax: a differentiable simulator of neuron models.

Models are Equinox modules (`scjax.models`), integrators are Diffrax solvers
(`scjax.solvers`), and `scjax.simulate` runs the fixed-step loop under `jax.lax.scan`.
scjax never changes global JAX configuration: enable float64 yourself with
`jax.config.update("jax_enable_x64", True)` where parity is claimed.
"""

import importlib.metadata

from . import models as models, solvers as solvers, stimulus as stimulus
from . import adaptive as adaptive, analysis as analysis, losses as losses
from . import fitting as fitting
from .fitting import FitResult as FitResult, fit as fit
from ._sharding import (
    batch_sharding as batch_sharding,
    gather as gather,
    shard_batch as shard_batch,
)
from .simulation import simulate as simulate, simulate_batch as simulate_batch
from ._surrogate import (
    AbstractSurrogate as AbstractSurrogate,
    FastSigmoidSurrogate as FastSigmoidSurrogate,
    SigmoidSurrogate as SigmoidSurrogate,
)
from ._trajectory import Trajectory as Trajectory
from .models import (
    LIF as LIF,
    AdEx as AdEx,
    FitzHughNagumo as FitzHughNagumo,
    HodgkinHuxley as HodgkinHuxley,
    Izhikevich as Izhikevich,
    MorrisLecar as MorrisLecar,
)

try:
    __version__ = importlib.metadata.version("scjax")
except importlib.metadata.PackageNotFoundError:  # run from a source tree (PYTHONPATH=.)
    __version__ = "0+unknown"
