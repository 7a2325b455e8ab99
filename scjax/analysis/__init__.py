"""Analysis of neuron models and spike trains.

Dynamics (`scjax.analysis.dynamics`): Jacobians, fixed points and their stability,
nullclines, bifurcation scans (Hopf / saddle-node points and the limit-cycle envelope), F–I
curves. Spike trains (`scjax.analysis.spikes`): ISI statistics, rates, Fano factor, Golomb's
synchrony χ, van Rossum, ISI- and SPIKE-distances (with PySpike's edge correction on
request) on padded spike-time arrays, and `to_neo` for Elephant / PySpike.
Plots (matplotlib, imported only when called) are `plot_*`.
"""

from . import dynamics as dynamics, spikes as spikes
from ._bifurcation import bifurcation_scan as bifurcation_scan
from ._classify import KINDS as KINDS, classify as classify
from ._conversion import spike_times as spike_times, to_neo as to_neo
from ._fi_curve import fi_curve as fi_curve
from ._fixed_points import fixed_points as fixed_points, solve_fixed_point as solve_fixed_point
from ._isi_spike_distances import isi_distance as isi_distance, spike_distance as spike_distance
from ._isi_statistics import cv_isi as cv_isi, isi as isi
from ._jacobian import eigenvalues as eigenvalues, jacobian as jacobian
from ._nullclines import nullclines as nullclines
from ._plot import (
    plot_bifurcation as plot_bifurcation,
    plot_fi_curve as plot_fi_curve,
    plot_phase_portrait as plot_phase_portrait,
)
from ._rates import fano_factor as fano_factor, mean_rate as mean_rate
from ._results import (
    Bifurcation as Bifurcation,
    BifurcationScan as BifurcationScan,
    FixedPoint as FixedPoint,
    Nullclines as Nullclines,
)
from ._synchrony import synchrony as synchrony
from ._van_rossum import (
    exponential_traces as exponential_traces,
    van_rossum_distance as van_rossum_distance,
)
