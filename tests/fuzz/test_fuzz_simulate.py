"""Property-based test of `scjax.simulate` and `scjax.simulate_batch`: any dt, t0, current
(array of any dtype/shape, or a stimulus object with random parameters), y0, save_every,
spike mode, record and max_spikes gives a trajectory with no silent NaN (finite, or
`diverged` set) or a `ValueError` naming the argument."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import scjax
from scjax import stimulus

from ._outcome import outcome
from ._strategies import EDGE_FLOATS, any_scalar, array_types, float_arrays, mostly

MODELS = (scjax.LIF(), scjax.Izhikevich(), scjax.FitzHughNagumo())
#: few step counts, so each test compiles a handful of programs only
STEPS = (1, 2, 4)
CURRENT_SHAPES = [(), (0,), *((t,) for t in STEPS), (2, 4), (1, 2, 2)]
STIMULUS_PARAMS = {
    stimulus.Constant: ("amplitude",),
    stimulus.Pulse: ("onset", "duration", "amplitude"),
    stimulus.Ramp: ("onset", "duration", "slope"),
    stimulus.Sine: ("amplitude", "frequency", "phase", "offset"),
    stimulus.WhiteNoise: ("std", "mean"),
    stimulus.OrnsteinUhlenbeck: ("mean", "std", "tau"),
}
ARGUMENTS = {
    "model", "current", "dt", "t0", "y0", "save_every", "spikes", "record", "max_spikes",
    "n_steps", "key", "events", "stimulus", "batch size",
}  # fmt: skip
ARGUMENTS |= {p for params in STIMULUS_PARAMS.values() for p in params}
ARGUMENTS |= {cls.__name__ for cls in STIMULUS_PARAMS}

param_values = st.floats(-30.0, 30.0, allow_nan=False)


@st.composite
def stimuli(draw, batch: int | None = None):
    cls = draw(st.sampled_from(sorted(STIMULUS_PARAMS, key=lambda c: c.__name__)))
    params = {}
    for name in STIMULUS_PARAMS[cls]:
        valid = st.floats(0.01, 30.0) if name in ("tau", "duration", "std") else param_values
        if batch is not None and draw(st.booleans()):
            params[name] = jnp.asarray(
                draw(st.lists(mostly(valid, EDGE_FLOATS), min_size=batch, max_size=batch))
            )
        else:
            params[name] = draw(mostly(valid, any_scalar()))
    return lambda: cls(**params), params


@st.composite
def run_arguments(draw, batch: int | None = None):
    model = draw(st.sampled_from(MODELS))
    if draw(st.integers(0, 3)) == 0:
        make, shown = draw(stimuli(batch))
        current = make
        n_steps = draw(mostly(st.sampled_from(STEPS), st.sampled_from([None, 0, -1, 2.0])))
    else:
        shapes = [(batch, t) for t in STEPS] * 2 if batch else []
        shapes += [(t,) for t in STEPS]
        array = draw(
            mostly(
                float_arrays(shapes, dtypes=("float64", "float32")).map(np.nan_to_num),
                float_arrays(CURRENT_SHAPES + shapes),
                odds=3,
            )
        )
        shown = array
        current = lambda: array  # noqa: E731
        n_steps = draw(mostly(st.none(), st.sampled_from([2, 0])))
    n_state = model.n_state
    y0_shape = (batch, n_state) if batch and draw(st.booleans()) else (n_state,)
    y0 = draw(
        mostly(
            st.none(),
            float_arrays([y0_shape, (n_state + 1,), ()], dtypes=("float64", "float32")).map(
                lambda a: a - 60.0
            ),
            odds=3,
        )
    )
    dt = st.sampled_from([0.1, 0.05, 0.5]).flatmap(array_types)
    kwargs = dict(
        dt=draw(mostly(dt, any_scalar())),
        t0=draw(mostly(st.just(0.0), any_scalar())),
        y0=y0,
        save_every=draw(mostly(st.just(1), st.sampled_from([4, 0, -1, 3, 1.5]))),
        spikes=draw(mostly(st.sampled_from(["raster", "count", "times"]), st.just("bogus"))),
        record=draw(mostly(st.sampled_from([None, ("v",)]), st.sampled_from([("nosuch",), ()]))),
        max_spikes=draw(mostly(st.sampled_from([64, 1]), st.sampled_from([0, -3, 2.5]))),
        n_steps=n_steps,
        throw=draw(mostly(st.just(False), st.just(True), odds=3)),
        key=draw(mostly(st.just(jax.random.key(0)), st.none())),
    )
    return model, current, kwargs, shown


def _check_trajectory(traj, inputs):
    y = np.asarray(traj.y)
    t = np.asarray(traj.t)
    diverged = np.asarray(traj.diverged)
    if not np.any(diverged):
        assert np.all(np.isfinite(y)), f"silent NaN/inf in y (diverged False)\ninputs: {inputs}"
        assert np.all(np.isfinite(t)), f"non-finite t\ninputs: {inputs}"
    else:  # flagged per neuron: every neuron with a non-finite state says so
        bad = ~np.isfinite(y).reshape(*diverged.shape, -1).all(axis=-1)
        assert np.all(diverged[bad]), f"non-finite neuron not flagged\ninputs: {inputs}"


_DIVERGED = [(eqx.EquinoxRuntimeError, "")]


@given(run_arguments())
def test_simulate(args):
    model, current, kwargs, shown = args
    inputs = dict(model=model, current=shown, **kwargs)
    traj = outcome(
        "simulate",
        lambda: scjax.simulate(model, current(), **kwargs),
        ARGUMENTS,
        inputs,
        allowed=_DIVERGED if kwargs["throw"] else (),
    )
    if traj is not None:
        _check_trajectory(traj, inputs)


@st.composite
def batch_arguments(draw):
    batch = draw(st.sampled_from([1, 2]))
    model, current, kwargs, shown = draw(run_arguments(batch))
    if draw(mostly(st.just(True), st.just(False), odds=2)):  # per-neuron parameters
        name = model.param_names[0]
        value = np.asarray(getattr(model, name))
        spread = jnp.asarray(
            draw(st.lists(mostly(st.floats(0.5, 2.0), EDGE_FLOATS), min_size=batch, max_size=batch))
        )
        model = eqx.tree_at(lambda m: getattr(m, name), model, value * spread)
        shown = (shown, {name: spread})
    return model, current, kwargs, shown


@given(batch_arguments())
def test_simulate_batch(args):
    model, current, kwargs, shown = args
    inputs = dict(model=model, current=shown, **kwargs)
    traj = outcome(
        "simulate_batch",
        lambda: scjax.simulate_batch(model, current(), **kwargs),
        ARGUMENTS,
        inputs,
        allowed=_DIVERGED if kwargs["throw"] else (),
    )
    if traj is not None:
        _check_trajectory(traj, inputs)
