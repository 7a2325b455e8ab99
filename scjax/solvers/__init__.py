"""One-step integrators, each a `diffrax.AbstractSolver` (usable in `scjax.simulate` and in
`diffrax.diffeqsolve`)."""

from ._base import (
    AbstractFixedStepSolver as AbstractFixedStepSolver,
)
from ._base import (
    AbstractRosenbrockSolver as AbstractRosenbrockSolver,
)
from ._euler import Euler as Euler
from ._exponential_euler import ExponentialEuler as ExponentialEuler
from ._half_euler import HalfEuler as HalfEuler
from ._model_term import AbstractModelTerm as AbstractModelTerm
from ._model_term import ModelTerm as ModelTerm
from ._names import SOLVERS_BY_NAME as SOLVERS_BY_NAME
from ._names import solver_from_name as solver_from_name
from ._rk4 import RK4 as RK4
from ._rodas import RODAS5P_TABLEAU as RODAS5P_TABLEAU
from ._rodas import Rodas5P as Rodas5P
from ._rodas import RodasTableau as RodasTableau
from ._rosenbrock2 import ROS2_GAMMA as ROS2_GAMMA
from ._rosenbrock2 import Rosenbrock2 as Rosenbrock2
from ._rosenbrock_euler import RosenbrockEuler as RosenbrockEuler
from ._rosenbrock_tableau import RosenbrockTableau as RosenbrockTableau
