"""`FitResult`, the outcome of `scjax.fit`, and the two ways a fit ends without one."""

import equinox as eqx
import numpy as np
from jaxtyping import Bool, Float

from ..models._base import AbstractNeuronModel


class FitResult(eqx.Module):
    """The outcome of `scjax.fit`.

    Fields:
        model: the initial model with the fitted parameters of the best restart written in
            (Python floats, like a freshly constructed model).
        params: the fitted values of the best restart, name → float.
        loss: the best restart's lowest loss (always finite).
        best_restart: index of the restart with the lowest loss among those that did not fail.
        loss_history: `[restarts, steps]`, the loss at each step before its update (`steps`
            is the number of completed steps: fewer than asked after an interruption).
        restart_losses: `[restarts]`, the lowest loss each restart reached (its parameters
            are the ones kept; the last iterate is evaluated too); +inf for a failed restart.
        restart_failed: `[restarts]`, True for a restart whose loss was never finite (its
            simulation diverged at every step); it is never the best.
        restart_params: name → `[restarts]` array of each restart's kept parameters.
        initial_params: name → `[restarts]` array of each restart's starting values.
        wall_time_s: seconds spent in `fit`, compilation included.
    """

    model: AbstractNeuronModel
    params: dict[str, float]
    loss: float
    best_restart: int
    loss_history: Float[np.ndarray, "restarts steps"]
    restart_losses: Float[np.ndarray, " restarts"]
    restart_failed: Bool[np.ndarray, " restarts"]
    restart_params: dict[str, np.ndarray]
    initial_params: dict[str, np.ndarray]
    wall_time_s: float


class FitFailedError(ValueError):
    """Every restart of a fit failed: its loss was non-finite at every step (the simulation
    diverged), so there is no result to return. The message says why. A `ValueError`: the
    remedy is in the inputs (dt, integrator, initial guess, target)."""


class FitInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or a `KeyboardInterrupt` raised in the callback stopped a fit.

    The fit stops after the compiled chunk of optimiser steps that was running (see
    `fit(chunk_size=...)`); `result` is the `FitResult` of the steps completed so far (None
    when no restart had reached a finite loss yet). Being a `KeyboardInterrupt`, it ends a
    script as Ctrl-C always does; catch it to keep the best-so-far parameters.
    """

    def __init__(self, result: FitResult | None, steps_done: int):
        super().__init__(f"fit interrupted after {steps_done} steps")
        self.result = result
        self.steps_done = steps_done
