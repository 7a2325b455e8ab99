r"""Spike-train statistics and distances in JAX, batched over trains (public namespace; the
code lives in one private module per concept).

**Representation.** A spike train is a padded array of spike times `times [..., N]` with the
number of valid spikes `counts [...]`: entries `times[..., :counts]` are the spikes (sorted,
non-decreasing), the rest is padding and is ignored whatever its value. Any leading axes are
batch axes and broadcast between the two trains of a distance. `spike_times` converts a
boolean raster (e.g. `scjax.Trajectory.spikes`) to this form; `to_neo` turns one train into a
`neo.SpikeTrain`. Times and durations are in the same unit (ms throughout scjax); rates are
per that unit (multiply by 1000 for Hz).

Every function is jit- and vmap-able (sizes that set output shapes are Python numbers).
Concrete inputs are checked (sorted valid times, counts within the padding, positive τ,
t_start < t_stop) and violations raise `ValueError` naming the argument; traced inputs are
not inspected. Padding is replaced by a safe value before any arithmetic, so it never leaks
NaN into values or gradients, and +inf padding raises no NumPy warning.
"""

from ._conversion import spike_times as spike_times
from ._conversion import to_neo as to_neo
from ._isi_spike_distances import isi_distance as isi_distance
from ._isi_spike_distances import spike_distance as spike_distance
from ._isi_statistics import cv_isi as cv_isi
from ._isi_statistics import isi as isi
from ._rates import fano_factor as fano_factor
from ._rates import mean_rate as mean_rate
from ._synchrony import synchrony as synchrony
from ._van_rossum import (
    exponential_traces as exponential_traces,
)
from ._van_rossum import (
    van_rossum_distance as van_rossum_distance,
)

__all__ = [
    "cv_isi",
    "exponential_traces",
    "fano_factor",
    "isi",
    "isi_distance",
    "mean_rate",
    "spike_distance",
    "spike_times",
    "synchrony",
    "to_neo",
    "van_rossum_distance",
]
