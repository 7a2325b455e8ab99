"""Neuron models: one `eqx.Module` per file, parameters as float fields."""

from ._adex import ADEX_EXP_ARG_MAX as ADEX_EXP_ARG_MAX, ADEX_PRESETS as ADEX_PRESETS, AdEx as AdEx
from ._base import (
    CONDUCTANCE_INTEGRATORS as CONDUCTANCE_INTEGRATORS,
    INTEGRATORS as INTEGRATORS,
    AbstractCrossingModel as AbstractCrossingModel,
    AbstractDiscreteTimeModel as AbstractDiscreteTimeModel,
    AbstractNeuronModel as AbstractNeuronModel,
    AbstractResettingModel as AbstractResettingModel,
    AbstractUpstrokeModel as AbstractUpstrokeModel,
    exprel as exprel,
)
from ._conductance import AbstractConductanceModel as AbstractConductanceModel
from ._domain import Domain as Domain, domain_table as domain_table
from ._fitzhugh_nagumo import FitzHughNagumo as FitzHughNagumo
from ._hodgkin_huxley import HodgkinHuxley as HodgkinHuxley
from ._izhikevich import IZHIKEVICH_PRESETS as IZHIKEVICH_PRESETS, Izhikevich as Izhikevich
from ._lif import LIF as LIF
from ._morris_lecar import MorrisLecar as MorrisLecar
from ._biolek_memristor import BiolekMemristor as BiolekMemristor
from ._fixed_point_lif import FixedPointLIF as FixedPointLIF
from ._gamma_oscillation import GammaOscillation as GammaOscillation
from ._homeostasis import Homeostasis as Homeostasis
from ._kuramoto import Kuramoto as Kuramoto
from ._lindblad import Lindblad as Lindblad
from ._predictive_coding import PredictiveCoding as PredictiveCoding
from ._sc_equilibrium import SCEquilibrium as SCEquilibrium
from ._stdp import STDPCurve as STDPCurve
from ._system_base import AbstractPlainSystem as AbstractPlainSystem
