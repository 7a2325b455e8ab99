"""The registry of the concrete models: every final model class of `scjax.models`, by name.

The command line and the tests look models up here, never by attribute search over a module;
`tests/test_models.py` checks that it lists exactly the final subclasses of
`AbstractNeuronModel` that `scjax.models` defines.
"""

from collections.abc import Mapping
from types import MappingProxyType

from ._adex import AdEx
from ._base import AbstractNeuronModel
from ._biolek_memristor import BiolekMemristor
from ._fitzhugh_nagumo import FitzHughNagumo
from ._fixed_point_lif import FixedPointLIF
from ._gamma_oscillation import GammaOscillation
from ._hodgkin_huxley import HodgkinHuxley
from ._homeostasis import Homeostasis
from ._izhikevich import Izhikevich
from ._kuramoto import Kuramoto
from ._lif import LIF
from ._lindblad import Lindblad
from ._morris_lecar import MorrisLecar
from ._predictive_coding import PredictiveCoding
from ._sc_equilibrium import SCEquilibrium
from ._stdp import STDPCurve

#: Class name → class of every concrete model, in the order of the names (the order in which
#: `scjax.backends.native.native_models` and the CLI list them).
MODELS: Mapping[str, type[AbstractNeuronModel]] = MappingProxyType(
    {
        cls.__name__: cls
        for cls in (
            AdEx,
            BiolekMemristor,
            FitzHughNagumo,
            FixedPointLIF,
            GammaOscillation,
            HodgkinHuxley,
            Homeostasis,
            Izhikevich,
            Kuramoto,
            LIF,
            Lindblad,
            MorrisLecar,
            PredictiveCoding,
            SCEquilibrium,
            STDPCurve,
        )
    }
)
