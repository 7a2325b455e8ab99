"""A step-size controller wrapper that lets one adaptive solve continue across `diffeqsolve`s."""

import diffrax
import jax.numpy as jnp


class ContinuedController(diffrax.AbstractAdaptiveStepSizeController):
    """Wraps a step-size controller and keeps its last two step-size proposals in the
    controller state. When a solve is continued in a new `diffeqsolve` (the next window),
    the larger of the two is its `dt0`: the step the controller wanted before the window's
    end clipped it, rather than a fresh initial-step guess (which would restart with a
    transient of small steps at every window)."""

    controller: diffrax.AbstractAdaptiveStepSizeController

    # Written out (as diffrax's ClipStepSizeController does): the dataclass __init__ a type
    # checker infers would also ask for the base's rtol/atol/norm, which are properties here.
    def __init__(self, controller: diffrax.AbstractAdaptiveStepSizeController):
        self.controller = controller

    @property
    def rtol(self):
        return self.controller.rtol

    @property
    def atol(self):
        return self.controller.atol

    @property
    def norm(self):
        return self.controller.norm

    def wrap(self, direction):
        wrapped = self.controller.wrap(direction)
        # diffrax types `wrap` as returning any controller; an adaptive one wraps to its kind.
        assert isinstance(wrapped, diffrax.AbstractAdaptiveStepSizeController)
        return ContinuedController(wrapped)

    def init(self, terms, t0, t1, y0, dt0, args, func, error_order):
        t_next, state = self.controller.init(terms, t0, t1, y0, dt0, args, func, error_order)
        dt = jnp.asarray(t_next - t0)
        return t_next, (state, dt, dt)

    def adapt_step_size(
        self, t0, t1, y0, y1_candidate, args, y_error, error_order, controller_state
    ):
        state, last, _ = controller_state
        keep, next_t0, next_t1, made_jump, state, result = self.controller.adapt_step_size(
            t0, t1, y0, y1_candidate, args, y_error, error_order, state
        )
        return keep, next_t0, next_t1, made_jump, (state, next_t1 - next_t0, last), result
