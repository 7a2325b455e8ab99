"""Analysis of neuron models and spike trains.

`scjax.analysis.dynamics`: Jacobians, fixed points and their stability, nullclines,
bifurcation scans (Hopf / saddle-node points and the limit-cycle envelope), F–I curves.
`scjax.analysis.spikes`: ISI statistics, rates, Fano factor, Golomb's synchrony χ,
van Rossum, ISI- and SPIKE-distances on padded spike-time arrays.
Plots (matplotlib, imported only when called) are in `scjax.analysis.plot_*`.
"""

from . import dynamics as dynamics, spikes as spikes
from ._plot import (
    plot_bifurcation as plot_bifurcation,
    plot_fi_curve as plot_fi_curve,
    plot_phase_portrait as plot_phase_portrait,
)
from .dynamics import (
    Bifurcation as Bifurcation,
    BifurcationScan as BifurcationScan,
    FixedPoint as FixedPoint,
    Nullclines as Nullclines,
    bifurcation_scan as bifurcation_scan,
    classify as classify,
    eigenvalues as eigenvalues,
    fi_curve as fi_curve,
    fixed_points as fixed_points,
    jacobian as jacobian,
    nullclines as nullclines,
    solve_fixed_point as solve_fixed_point,
)
from .spikes import (
    cv_isi as cv_isi,
    exponential_traces as exponential_traces,
    fano_factor as fano_factor,
    isi as isi,
    isi_distance as isi_distance,
    mean_rate as mean_rate,
    spike_distance as spike_distance,
    spike_times as spike_times,
    synchrony as synchrony,
    van_rossum_distance as van_rossum_distance,
)
