"""One-step integrators, each a `diffrax.AbstractSolver` (usable in `scjax.simulate` and in
`diffrax.diffeqsolve`)."""

from ._base import (
    AbstractFixedStepSolver as AbstractFixedStepSolver,
    AbstractRosenbrockSolver as AbstractRosenbrockSolver,
)
from ._euler import Euler as Euler
from ._exponential_euler import ExponentialEuler as ExponentialEuler
from ._half_euler import HalfEuler as HalfEuler
from ._model_term import AbstractModelTerm as AbstractModelTerm, ModelTerm as ModelTerm
from ._names import SOLVERS_BY_NAME as SOLVERS_BY_NAME, solver_from_name as solver_from_name
from ._rk4 import RK4 as RK4
from ._rosenbrock2 import ROS2_GAMMA as ROS2_GAMMA, Rosenbrock2 as Rosenbrock2
from ._rosenbrock_euler import RosenbrockEuler as RosenbrockEuler
from ._rodas import RODAS5P_TABLEAU as RODAS5P_TABLEAU, Rodas5P as Rodas5P, RodasTableau as RodasTableau
