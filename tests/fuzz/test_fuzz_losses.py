"""Property-based test of `scjax.losses` and `scjax.analysis.spikes`: random dt, τ, windows,
spike signals and padded spike trains give a finite result or a `ValueError` naming the
argument."""

import jax
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scjax import losses
from scjax.analysis import spikes

from ._outcome import outcome
from ._strategies import any_scalar, float_arrays, mostly

T = (1, 3, 8)
positive = st.sampled_from([0.1, 1.0, 5.0, 10.0])
scalar = mostly(positive, any_scalar(), odds=4)
t_start = mostly(st.just(0.0), any_scalar(), odds=4)
t_stop = mostly(st.sampled_from([10.0, 60.0]), any_scalar(), odds=4)
signals = mostly(
    st.tuples(st.sampled_from(T), st.integers(0, 255)).map(
        lambda a: ((a[1] >> np.arange(a[0])) & 1).astype(np.float64)
    ),
    float_arrays([(0,), (), (2, 3), *((t,) for t in T)]),
    odds=4,
)

#: spike times on the grid of 8 steps of 1 ms, and population signals [n_neurons, T]
grid_times = st.lists(st.floats(0.5, 8.4), max_size=5).map(np.sort)
population = st.tuples(st.sampled_from([(2, 8), (3, 3), (1, 8)]), st.integers(0, 2**24)).map(
    lambda a: ((a[1] >> np.arange(np.prod(a[0]))) & 1).reshape(a[0]).astype(np.float64)
)


@st.composite
def trains(draw):
    n = draw(st.sampled_from([1, 4]))
    times = np.sort(np.asarray(draw(st.lists(st.floats(0.0, 50.0), min_size=n, max_size=n))))
    counts = draw(st.integers(0, n))
    if draw(st.integers(0, 5)) == 5:  # a broken train
        times, counts = draw(
            st.sampled_from(
                [
                    (times[::-1] + np.arange(n), n),
                    (np.full(n, np.nan), n),
                    (times, n + 1),
                    (times, -1),
                    (times, 1.5),
                    (np.float64(1.0), 1),
                    (times.astype(str), n),
                ]
            )
        )
    return times, counts


CALLS = {
    "trace_mse": (
        lambda d: losses.trace_mse(d(signals), d(signals)),
        {"pred", "target", "shape"},
    ),
    "van_rossum": (
        lambda d: losses.van_rossum(d(signals), d(signals), d(scalar), d(scalar)),
        {"pred", "target", "dt", "tau", "shape"},
    ),
    "spike_count": (lambda d: losses.spike_count(d(signals), d(scalar)), {"pred", "target"}),
    "firing_rate": (
        lambda d: losses.firing_rate(d(signals), d(scalar), d(scalar)),
        {"pred", "target_rate", "dt"},
    ),
    "exponential_filter": (
        lambda d: losses.exponential_filter(d(signals), d(scalar), d(scalar)),
        {"signal", "dt", "tau"},
    ),
    "spike_times_to_signal": (
        lambda d: losses.spike_times_to_signal(
            d(mostly(grid_times, trains().map(lambda t: t[0]), odds=3)),
            d(mostly(st.just(8), st.sampled_from([1, 0, -1, 2.5]))),
            d(mostly(st.just(1.0), any_scalar())),
        ),
        {"times", "n_steps", "dt"},
    ),
    "spikes.spike_times": (
        lambda d: spikes.spike_times(
            d(signals) > 0, d(scalar), max_spikes=d(st.sampled_from([None, 2, 0]))
        ),
        {"raster", "dt", "t0", "max_spikes"},
    ),
    "spikes.isi": (lambda d: spikes.isi(*d(trains())), {"times", "counts"}),
    "spikes.cv_isi": (lambda d: spikes.cv_isi(*d(trains())), {"times", "counts"}),
    "spikes.mean_rate": (
        lambda d: spikes.mean_rate(*d(trains()), d(t_start), d(t_stop)),
        {"times", "counts", "t_start", "t_stop"},
    ),
    "spikes.fano_factor": (
        lambda d: spikes.fano_factor(*d(trains()), d(scalar), d(t_start), d(t_stop)),
        {"times", "counts", "window", "t_start", "t_stop"},
    ),
    "spikes.van_rossum_distance": (
        lambda d: spikes.van_rossum_distance(*d(trains()), *d(trains()), d(scalar)),
        {"times", "counts", "tau"},
    ),
    "spikes.isi_distance": (
        lambda d: spikes.isi_distance(*d(trains()), *d(trains()), d(t_start), d(t_stop)),
        {"times", "counts", "t_start", "t_stop"},
    ),
    "spikes.spike_distance": (
        lambda d: spikes.spike_distance(*d(trains()), *d(trains()), d(t_start), d(t_stop)),
        {"times", "counts", "t_start", "t_stop"},
    ),
    "spikes.synchrony": (
        lambda d: spikes.synchrony(d(mostly(population, signals, odds=3))),
        {"signals"},
    ),
}
#: documented NaN: the CV of fewer than two ISIs (checked below), the Fano factor of windows
#: without spikes, the synchrony of constant signals (checked below).
MAY_BE_NAN = {"spikes.cv_isi", "spikes.fano_factor", "spikes.synchrony"}


@pytest.mark.parametrize("name", sorted(CALLS))
@given(data=st.data())
def test_losses_and_spike_statistics(name, data):
    make, names = CALLS[name]
    drawn = []

    def draw(strategy):
        value = data.draw(strategy)
        drawn.append(value)
        return value

    result = outcome(name, lambda: make(draw), names, drawn)
    if result is not None and name == "spikes.isi":  # NaN-padded past its count
        intervals, n = (np.asarray(r) for r in result)
        assert np.all(np.isfinite(intervals[..., : int(n)])), f"isi: NaN interval\n{drawn}"
    elif result is not None and name == "spikes.synchrony" and np.isnan(np.asarray(result)).any():
        constant = np.var(np.asarray(drawn[0], float), axis=-1) == 0
        assert np.all(constant), f"synchrony: NaN with a varying signal\ninputs: {drawn}"
    elif result is not None and name == "spikes.cv_isi" and np.isnan(np.asarray(result)).any():
        times, counts = drawn[0]
        n = int(counts)
        mean = np.mean(np.diff(np.asarray(times, float)[:n])) if n >= 3 else 0.0
        assert n < 3 or not mean > 0, f"cv_isi: NaN with two ISIs of positive mean\n{drawn}"
    elif result is not None and name not in MAY_BE_NAN:
        for leaf in jax.tree.leaves(result):
            arr = np.asarray(leaf)
            if name == "spikes.spike_times" and arr.dtype.kind == "f":
                arr = arr[arr != np.inf]  # +inf is the documented padding
            assert np.all(np.isfinite(arr)), f"{name}: non-finite result {arr}\ninputs: {drawn}"
