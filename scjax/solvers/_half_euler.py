"""Izhikevich's half-step Euler."""

import diffrax
import equinox as eqx
import jax.numpy as jnp

from .._custom_types import State
from ._base import AbstractFixedStepSolver


class HalfEuler(AbstractFixedStepSolver):
    """The recurrence of Izhikevich's published MATLAB code (Izhikevich 2003, IEEE TNN 14:1569):

        v ← v + (h/2)·f_v(v, u);  v ← v + (h/2)·f_v(v, u);  u ← u + h·f_u(v, u)

    i.e. the *fast* components take two explicit Euler half steps (slow components frozen),
    then the *slow* components take one Euler step of h using the updated fast ones.
    Order 1, three evaluations of f, no error estimate (fixed step only).

    Arguments:
        fast_mask: per state component, True for the fast ones. `scjax.simulate` fills it from
            the model (`model.fast_mask`, e.g. `(True, False)` for Izhikevich's (v, u)); inside
            `diffrax.diffeqsolve` pass it explicitly.
    """

    fast_mask: tuple[bool, ...] | None = eqx.field(static=True, default=None)

    def order(self, terms):
        return 1

    def step(self, terms, t0, t1, y0: State, args, solver_state, made_jump):
        del solver_state, made_jump
        if self.fast_mask is None:
            raise ValueError(
                "fast_mask is None: HalfEuler needs to know which state components are fast. "
                "Pass HalfEuler(fast_mask=model.fast_mask) (scjax.simulate does this for you)."
            )
        if len(self.fast_mask) != y0.shape[-1]:
            raise ValueError(
                f"fast_mask has {len(self.fast_mask)} entries but the state has {y0.shape[-1]}"
            )
        mask = self.fast_mask
        h = terms.contr(t0, t1)
        half = 0.5 * h
        y = _merge(mask, y0 + half * terms.vf(t0, y0, args), y0)
        y = _merge(mask, y + half * terms.vf(t0 + half, y, args), y)
        y1 = _merge(mask, y, y0 + h * terms.vf(t0, y, args))
        return y1, None, dict(y0=y0, y1=y1), None, diffrax.RESULTS.successful


def _merge(fast_mask: tuple[bool, ...], fast_values: State, slow_values: State) -> State:
    """The fast components of `fast_values` with the slow ones of `slow_values`.

    Built component by component from the static mask (not `jnp.where` on the whole
    vector), so XLA drops the half of each vector-field evaluation that is discarded.
    """
    parts = [fast_values[i] if fast else slow_values[i] for i, fast in enumerate(fast_mask)]
    return jnp.stack(parts)
