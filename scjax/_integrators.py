"""The integrator names a model accepts.

A name-only table shared by `scjax.models` (which checks the name at construction) and
`scjax.solvers` (which maps each name to its solver class): models never import solvers.
"""

#: Integrator names, in the order documented in the README.
INTEGRATOR_NAMES: tuple[str, ...] = (
    "euler",
    "half_euler",
    "rk4",
    "rosenbrock",
    "rosenbrock2",
    "rodas5p",
    "exponential_euler",
    "rush_larsen",
)
#: The names only conductance-based models (`scjax.models.AbstractConductanceModel`) accept.
CONDUCTANCE_INTEGRATOR_NAMES: tuple[str, ...] = ("exponential_euler", "rush_larsen")
