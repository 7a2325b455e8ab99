"""Property-based test of `scjax.adaptive.solve`: random t_span, saveat, rtol/atol, current
and y0 give a `Solution` with no silent NaN (finite, or `result` not successful) or a
`ValueError` naming the argument. One model and short spans keep it to a few compiles."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import scjax
from scjax import adaptive

from ._outcome import outcome
from ._strategies import any_scalar, float_arrays, mostly

MODEL = scjax.LIF()
ARGUMENTS = {"t_span", "saveat", "rtol", "atol", "current", "current_dt", "y0", "max_spikes"}
ARGUMENTS |= {"max_steps", "t0", "t1", "span"}


@st.composite
def solve_arguments(draw):
    span = draw(
        mostly(
            st.sampled_from([(0.0, 1.0), (0.0, 2.0), (5.0, 6.0)]),
            st.one_of(
                st.tuples(any_scalar(), any_scalar()),
                st.sampled_from([(1.0, 0.0), (0.0,), (0.0, 1.0, 2.0), None, "0,1"]),
            ),
            odds=4,
        )
    )
    return dict(
        t_span=span,
        current=draw(
            mostly(
                st.sampled_from([0.0, 20.0, 40.0]),
                st.one_of(any_scalar(), float_arrays([(0,), (3,), (10,), (2, 2)])),
                odds=4,
            )
        ),
        saveat=draw(mostly(st.sampled_from([0.1, 0.5]), any_scalar())),
        rtol=draw(mostly(st.just(1e-6), any_scalar())),
        atol=draw(mostly(st.just(1e-8), any_scalar())),
        y0=draw(
            mostly(
                st.none(),
                float_arrays([(1,), (2,), ()], dtypes=("float64",)).map(lambda a: a - 60),
            )
        ),
        throw=False,
    )


@given(solve_arguments())
def test_adaptive_solve(kwargs):
    solution = outcome("adaptive.solve", lambda: adaptive.solve(MODEL, **kwargs), ARGUMENTS, kwargs)
    if solution is not None and bool(solution.result == adaptive.RESULTS.successful):
        y = np.asarray(solution.trajectory.y)
        assert np.all(np.isfinite(y)), f"silent NaN with result successful\ninputs: {kwargs}"
