"""Property-based test of every model constructor in `scjax.models`: a parameter of any value
and any array type (Python float, NumPy scalar, 0-d array, JAX array, 1-D batch) gives a model
or a `ValueError` naming the parameter, and the same value gets the same answer whatever its
array type."""

import inspect

import jax.numpy as jnp
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from scjax import models

from ._outcome import outcome
from ._strategies import EDGE_FLOATS, mostly

CLASSES = sorted(models.MODELS.values(), key=lambda c: c.__name__)
#: constructor arguments that are not float parameters (sizes, seeds, names)
NOT_FLOAT = {"integrator", "n", "seed", "n_in", "n1", "n2", "bitstream_bits", "lags"}

ARRAY_TYPES = {
    "float": float,
    "np.float32": np.float32,
    "np.float64": np.float64,
    "np.array": np.array,
    "jnp": jnp.asarray,
}


def _float_params(cls):
    return [
        p.name
        for p in inspect.signature(cls).parameters.values()
        if p.name not in NOT_FLOAT and isinstance(p.default, float)
    ]


@st.composite
def constructions(draw):
    cls = draw(st.sampled_from(CLASSES))
    names = _float_params(cls)
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    values = {}
    for name in chosen:
        default = inspect.signature(cls).parameters[name].default
        value = draw(
            mostly(st.floats(0.5, 2.0).map(lambda s, d=default: s * d), EDGE_FLOATS, odds=3)
        )
        if draw(st.integers(0, 4)) == 4:  # a 1-D batch, one element changed
            values[name] = (jnp.asarray([default, value]), "batch")
        else:
            kind = draw(st.sampled_from(sorted(ARRAY_TYPES)))
            values[name] = (value, kind)
    return cls, values


def _build(cls, values, kind_override=None):
    kwargs = {}
    for name, (value, kind) in values.items():
        if kind == "batch":
            kwargs[name] = value
        else:
            kwargs[name] = ARRAY_TYPES[kind_override or kind](value)
    return cls(**kwargs)


@given(constructions())
def test_model_constructors(args):
    cls, values = args
    inputs = dict(cls=cls.__name__, values=values)
    names = set(values) | {cls.__name__}
    model = outcome(f"models.{cls.__name__}", lambda: _build(cls, values), names, inputs)
    # The same values as Python floats get the same answer (accepted or refused).
    with np.errstate(all="ignore"):
        scalar = {n: v for n, (v, k) in values.items() if k != "batch"}
    if len(scalar) == len(values) and all(
        np.isfinite(np.float32(v)) == np.isfinite(v) for v in scalar.values()
    ):
        try:
            _build(cls, values, kind_override="float")
            as_float_ok = True
        except ValueError:
            as_float_ok = False
        assert as_float_ok == (model is not None), (
            f"{cls.__name__}: accepted as one array type and refused as another\ninputs: {inputs}"
        )
    if model is not None:
        for name in model.param_names:
            assert np.all(np.isfinite(np.asarray(getattr(model, name)))), (
                f"non-finite parameter {name} accepted\ninputs: {inputs}"
            )
