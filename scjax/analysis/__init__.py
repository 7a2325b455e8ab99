"""Analysis of neuron models and spike trains.

Dynamics (`scjax.analysis.dynamics`): Jacobians, fixed points and their stability,
nullclines, bifurcation scans (Hopf / saddle-node points and the limit-cycle envelope), F–I
curves. Spike trains (`scjax.analysis.spikes`): ISI statistics, rates, Fano factor, Golomb's
synchrony χ, van Rossum, ISI- and SPIKE-distances (with PySpike's edge correction on
request) on padded spike-time arrays, and `to_neo` for Elephant / PySpike.
Plots (matplotlib, imported only when called) are `plot_*`.
"""

from . import dynamics as dynamics
from . import spikes as spikes
from ._bifurcation import bifurcation_scan as bifurcation_scan
from ._classify import KINDS as KINDS
from ._classify import classify as classify
from ._conversion import spike_times as spike_times
from ._conversion import to_neo as to_neo
from ._fi_curve import fi_curve as fi_curve
from ._fixed_points import fixed_points as fixed_points
from ._fixed_points import solve_fixed_point as solve_fixed_point
from ._isi_spike_distances import isi_distance as isi_distance
from ._isi_spike_distances import spike_distance as spike_distance
from ._isi_statistics import cv_isi as cv_isi
from ._isi_statistics import isi as isi
from ._jacobian import eigenvalues as eigenvalues
from ._jacobian import jacobian as jacobian
from ._nullclines import nullclines as nullclines
from ._plot import (
    plot_bifurcation as plot_bifurcation,
)
from ._plot import (
    plot_fi_curve as plot_fi_curve,
)
from ._plot import (
    plot_phase_portrait as plot_phase_portrait,
)
from ._rates import fano_factor as fano_factor
from ._rates import mean_rate as mean_rate
from ._results import (
    Bifurcation as Bifurcation,
)
from ._results import (
    BifurcationScan as BifurcationScan,
)
from ._results import (
    FixedPoint as FixedPoint,
)
from ._results import (
    Nullclines as Nullclines,
)
from ._synchrony import synchrony as synchrony
from ._van_rossum import (
    exponential_traces as exponential_traces,
)
from ._van_rossum import (
    van_rossum_distance as van_rossum_distance,
)
