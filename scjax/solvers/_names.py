"""Integrator names → solvers: the one registry. An unknown name is a `ValueError`."""

from .._integrators import INTEGRATOR_NAMES
from ._euler import Euler
from ._exponential_euler import ExponentialEuler
from ._half_euler import HalfEuler
from ._rk4 import RK4
from ._rodas import Rodas5P
from ._rosenbrock2 import Rosenbrock2
from ._rosenbrock_euler import RosenbrockEuler

SOLVERS_BY_NAME = {
    "euler": Euler,
    "half_euler": HalfEuler,
    "rk4": RK4,
    "rosenbrock": RosenbrockEuler,
    "rosenbrock2": Rosenbrock2,
    "rodas5p": Rodas5P,
    "exponential_euler": ExponentialEuler,
    "rush_larsen": ExponentialEuler,  # ExponentialEuler(membrane="euler")
}
# The models check names against INTEGRATOR_NAMES without importing solvers: keep the two equal.
assert tuple(SOLVERS_BY_NAME) == INTEGRATOR_NAMES, (tuple(SOLVERS_BY_NAME), INTEGRATOR_NAMES)


def solver_from_name(name: str, *, fast_mask: tuple[bool, ...] | None = None):
    """The solver for an integrator name; `fast_mask` is used by `"half_euler"` only."""
    if name not in SOLVERS_BY_NAME:
        raise ValueError(f"integrator must be one of {tuple(SOLVERS_BY_NAME)}, got {name!r}")
    if name == "half_euler":
        return HalfEuler(fast_mask=fast_mask)
    if name == "rush_larsen":
        return ExponentialEuler(membrane="euler")
    return SOLVERS_BY_NAME[name]()
