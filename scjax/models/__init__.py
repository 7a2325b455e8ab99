"""Neuron models: one `eqx.Module` per file, parameters as float fields."""

from ._adex import ADEX_EXP_ARG_MAX as ADEX_EXP_ARG_MAX
from ._adex import ADEX_PRESETS as ADEX_PRESETS
from ._adex import AdEx as AdEx
from ._base import (
    CONDUCTANCE_INTEGRATORS as CONDUCTANCE_INTEGRATORS,
)
from ._base import (
    INTEGRATORS as INTEGRATORS,
)
from ._base import (
    AbstractCrossingModel as AbstractCrossingModel,
)
from ._base import (
    AbstractDiscreteTimeModel as AbstractDiscreteTimeModel,
)
from ._base import (
    AbstractNeuronModel as AbstractNeuronModel,
)
from ._base import (
    AbstractResettingModel as AbstractResettingModel,
)
from ._base import (
    AbstractUpstrokeModel as AbstractUpstrokeModel,
)
from ._base import (
    exprel as exprel,
)
from ._biolek_memristor import BiolekMemristor as BiolekMemristor
from ._conductance import AbstractConductanceModel as AbstractConductanceModel
from ._domain import Domain as Domain
from ._domain import domain_table as domain_table
from ._fitzhugh_nagumo import FitzHughNagumo as FitzHughNagumo
from ._fixed_point_lif import FixedPointLIF as FixedPointLIF
from ._gamma_oscillation import GammaOscillation as GammaOscillation
from ._hodgkin_huxley import HodgkinHuxley as HodgkinHuxley
from ._homeostasis import Homeostasis as Homeostasis
from ._izhikevich import IZHIKEVICH_PRESETS as IZHIKEVICH_PRESETS
from ._izhikevich import Izhikevich as Izhikevich
from ._kuramoto import Kuramoto as Kuramoto
from ._lif import LIF as LIF
from ._lindblad import Lindblad as Lindblad
from ._morris_lecar import MorrisLecar as MorrisLecar
from ._predictive_coding import PredictiveCoding as PredictiveCoding
from ._registry import MODELS as MODELS
from ._sc_equilibrium import SCEquilibrium as SCEquilibrium
from ._stdp import STDPCurve as STDPCurve
from ._system_base import AbstractPlainSystem as AbstractPlainSystem
