"""The one protocol every simulation backend implements (native, SciPy, Julia, and JAX itself).

`AbstractBackend` is an abstract `eqx.Module` rather than a `typing.Protocol`: it follows the
abstract/final pattern of the models (what a backend must provide is declared once here, and
equinox refuses to instantiate a backend that leaves an `AbstractVar`/`AbstractClassVar`
undefined), its capability (`supports_adaptive`) is an explicit declaration instead of a
probe for methods, and `scjax.parity.register` can refuse a non-backend by `isinstance`.
"""

import abc
from typing import Literal

import equinox as eqx

from .._trajectory import Trajectory
from ..adaptive import Solution


class BackendUnavailable(RuntimeError):
    """A backend cannot run; the message is the reason `available()` reports."""


class AbstractBackend(eqx.Module):
    """A simulation backend with scjax's output schemas.

    Attributes:
        name: the backend's name in reports and in `scjax.parity.BACKENDS`.
        supports_adaptive: True for an adaptive reference (SciPy, Julia: `solve` integrates to
            a tolerance and `simulate` samples that solution); False for a fixed-step
            backend (native: `simulate` runs a named integrator, `solve` raises).
    """

    name: eqx.AbstractVar[str]
    supports_adaptive: eqx.AbstractClassVar[bool]

    @abc.abstractmethod
    def available(self) -> Literal[True] | str:
        """True, or the reason the backend cannot run (checked without running it)."""

    @abc.abstractmethod
    def simulate(self, model, current, dt, integrator: str | None = None, y0=None) -> Trajectory:
        """`scjax.simulate`'s interface: `current[n]` holds over [n·dt, (n+1)·dt) and the
        trajectory is sampled every `dt` (`t [T+1]`, `y [T+1, n_state]`, `spikes [T]`).
        `integrator` names the fixed-step method (scjax names); adaptive backends take
        None. Raises `NotImplementedError` for an integrator the backend does not have."""

    @abc.abstractmethod
    def solve(
        self,
        model,
        t_span,
        current=0.0,
        *,
        saveat: float = 0.1,
        current_dt: float | None = None,
        y0=None,
    ) -> Solution:
        """An adaptive solution on the save grid (see `scjax.adaptive.solve`); raises
        `ValueError` on a backend whose `supports_adaptive` is False."""
