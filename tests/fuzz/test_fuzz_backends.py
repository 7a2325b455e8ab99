"""Property-based test of the reference backends: `scjax.backends.scipy.simulate` / `solve`
and `scjax.backends.native.simulate` (for each native library that is built) give a result
with no silent NaN (finite, or flagged) or a `ValueError` naming the argument."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scjax
from scjax.backends import native
from scjax.backends import scipy as scipy_backend

from ._outcome import outcome
from ._strategies import any_scalar, float_arrays, mostly

ARGUMENTS = {"t_span", "saveat", "rtol", "atol", "current", "current_dt", "y0", "dt", "t0"}
ARGUMENTS |= {"method", "model", "integrator", "params", "max_steps", "max_spikes", "span", "t1"}
currents = mostly(
    float_arrays([(3,), (10,)], dtypes=("float64",)).map(np.nan_to_num),
    float_arrays([(0,), (), (3,), (2, 3)]),
    odds=3,
)
dts = mostly(st.sampled_from([0.05, 0.1]), any_scalar())
y0s = mostly(st.none(), float_arrays([(1,), (2,), (3,), ()], dtypes=("float64",)))


def _unflagged_nan(traj) -> bool:
    return not bool(np.asarray(traj.diverged)) and not np.all(np.isfinite(np.asarray(traj.y)))


@given(
    model=st.sampled_from([scjax.LIF(), scjax.Izhikevich()]),
    current=currents,
    dt=dts,
    t0=mostly(st.just(0.0), any_scalar()),
    y0=y0s,
    rtol=mostly(st.just(1e-6), any_scalar()),
    method=mostly(st.sampled_from(["DOP853", "RK45"]), st.just("nosuch")),
)
def test_scipy_simulate(model, current, dt, t0, y0, rtol, method):
    inputs = dict(model=model, current=current, dt=dt, t0=t0, y0=y0, rtol=rtol, method=method)
    traj = outcome(
        "scipy.simulate",
        lambda: scipy_backend.simulate(
            model, current, dt, t0=t0, y0=y0, rtol=rtol, method=method, throw=False
        ),
        ARGUMENTS,
        inputs,
    )
    if traj is not None:
        assert not _unflagged_nan(traj), f"silent NaN\ninputs: {inputs}"


@given(
    span=mostly(
        st.sampled_from([(0.0, 1.0), (0.0, 2.0)]),
        st.one_of(st.tuples(any_scalar(), any_scalar()), st.sampled_from([(1.0, 0.0), None])),
        odds=4,
    ),
    current=mostly(st.sampled_from([0.0, 30.0]), st.one_of(any_scalar(), currents), odds=4),
    saveat=mostly(st.sampled_from([0.1, 0.5]), any_scalar()),
    rtol=mostly(st.just(1e-6), any_scalar()),
    atol=mostly(st.just(1e-8), any_scalar()),
    y0=y0s,
)
def test_scipy_solve(span, current, saveat, rtol, atol, y0):
    inputs = dict(span=span, current=current, saveat=saveat, rtol=rtol, atol=atol, y0=y0)
    solution = outcome(
        "scipy.solve",
        lambda: scipy_backend.solve(
            scjax.LIF(), span, current, saveat=saveat, rtol=rtol, atol=atol, y0=y0, throw=False
        ),
        ARGUMENTS,
        inputs,
    )
    if solution is not None and bool(solution.result == scjax.adaptive.RESULTS.successful):
        y = np.asarray(solution.trajectory.y)
        assert np.all(np.isfinite(y)), f"silent NaN with result successful\ninputs: {inputs}"


BUILT = [b for b, ok in native.available().items() if ok is True]


@pytest.mark.skipif(not BUILT, reason=f"no native library loads: {native.available()}")
@given(
    backend=st.sampled_from(BUILT or ["none"]),
    model=st.sampled_from(
        [scjax.Izhikevich(), scjax.HodgkinHuxley(), scjax.AdEx(), "izhikevich", "nosuch"]
    ),
    current=currents,
    dt=dts,
    integrator=mostly(st.sampled_from(["euler", "rk4", "half_euler"]), st.just("nosuch")),
    params=mostly(st.none(), float_arrays([(0,), (3,), (30,), ()], dtypes=("float64",))),
    y0=y0s,
)
def test_native_simulate(backend, model, current, dt, integrator, params, y0):
    inputs = dict(
        backend=backend, model=model, current=current, dt=dt, integrator=integrator,
        params=params, y0=y0,
    )  # fmt: skip
    traj = outcome(
        f"native.simulate[{backend}]",
        lambda: native.simulate(backend, model, current, dt, integrator, params=params, y0=y0),
        # an empty current reaches the C ABI on purpose (tests/test_native.py checks its
        # error path), whose message names its own argument, n_steps = len(current)
        ARGUMENTS | {"n_steps"},
        inputs,
    )
    if traj is not None:
        assert not _unflagged_nan(traj), f"silent NaN\ninputs: {inputs}"
