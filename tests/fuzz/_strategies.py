"""Input strategies shared by the fuzz modules: scalars and arrays of every array type,
including the values that break naive checks (NaN, ±inf, 0, negatives, subnormals, huge)."""

import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

#: finite floats, the edge values, and the non-finite ones
EDGE_FLOATS = st.one_of(
    st.floats(-100.0, 100.0, allow_nan=False),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.1, 1e-3, 5e-324, 1e-300, 1e30, -1e30, 1e300]),
    st.sampled_from([float("nan"), float("inf"), float("-inf")]),
)


def array_types(value: float):
    """`value` as each array type a user may pass."""
    return st.sampled_from(
        [
            lambda v: v,
            lambda v: np.float32(v),
            lambda v: np.float64(v),
            lambda v: np.array(v),
            lambda v: jnp.asarray(v),
            lambda v: int(v) if np.isfinite(v) and abs(v) < 1e9 else v,
        ]
    ).map(lambda f: f(value))


def any_scalar(values=EDGE_FLOATS):
    """A scalar of a random array type, or now and then something that is not a scalar."""
    return st.one_of(
        values.flatmap(array_types),
        st.sampled_from([None, "1.0", [0.1, 0.2], np.zeros(0), np.array([0.1, 0.2]), True]),
    )


def float_arrays(shapes, dtypes=("float64", "float32", "int32", "bool", "float16")):
    """Arrays of random dtype and one of `shapes`, with edge values among the elements."""

    def build(args):
        shape, dtype, fill, picks = args
        size = int(np.prod(shape)) if shape else 1
        flat = np.full(size, fill)
        for i, v in picks[:size]:
            flat[i % size] = v
        with np.errstate(all="ignore"):
            return flat.reshape(shape).astype(dtype)

    return st.tuples(
        st.sampled_from(shapes),
        st.sampled_from(dtypes),
        st.floats(-30.0, 30.0, allow_nan=False),
        st.lists(st.tuples(st.integers(0, 64), EDGE_FLOATS), max_size=3),
    ).map(build)


def mostly(valid, odd, *, odds: int = 12):
    """`valid` most of the time, `odd` one time in `odds`: each example breaks a few
    arguments only, so the run gets past the first check."""
    return st.integers(0, odds - 1).flatmap(lambda i: odd if i == odds - 1 else valid)
