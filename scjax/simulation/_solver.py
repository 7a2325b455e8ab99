"""The solver of a run: the model's integrator name resolved, or the solver given."""

import diffrax

from ..solvers import HalfEuler, solver_from_name


def resolve_solver(model, solver) -> diffrax.AbstractSolver:
    """`solver=None` → the solver named by `model.integrator`; a `HalfEuler()` without a
    `fast_mask` gets the model's (which components are fast is a fact of the model)."""
    if solver is None:
        return solver_from_name(model.integrator, fast_mask=model.fast_mask)
    if isinstance(solver, HalfEuler) and solver.fast_mask is None:
        return HalfEuler(fast_mask=model.fast_mask)
    if not isinstance(solver, diffrax.AbstractSolver):
        raise ValueError(f"solver must be a diffrax.AbstractSolver, got {type(solver).__name__}")
    return solver
