"""Exponential Euler and Rush–Larsen for conductance-based models."""

from typing import Literal

import diffrax
import equinox as eqx
import jax.numpy as jnp

# diffeqsolve wraps every term in a WrapTerm (integration direction); diffrax's own solvers that
# read a term's structure unwrap it the same way (`_solver/foster_langevin_srk.py`).
from diffrax._term import WrapTerm

from .._custom_types import ScalarLike, State
from ..models._base import exprel
from ..models._conductance import AbstractConductanceModel, conductance_model_names
from ._base import AbstractFixedStepSolver
from ._model_term import AbstractModelTerm


class ExponentialEuler(AbstractFixedStepSolver):
    r"""Exponential Euler for conditionally linear systems (`AbstractConductanceModel`s): each
    component dyᵢ/dt = aᵢ − bᵢ yᵢ, with aᵢ and bᵢ frozen at their values at the step start, is
    advanced by its exact solution over the step,

        yᵢ ← x∞ᵢ + (yᵢ − x∞ᵢ) e^{−h bᵢ},  x∞ᵢ = aᵢ/bᵢ,  τᵢ = 1/bᵢ,

    computed in the equivalent form yᵢ ← yᵢ + h φ(−h bᵢ)(aᵢ − bᵢ yᵢ), φ(z) = (eᶻ − 1)/z
    (`scjax.models.exprel`), which is well conditioned as bᵢ → 0 (τ → ∞: φ → 1, the Euler
    step) and has finite value and gradient there. Every component is advanced from the same
    frozen values at the step start, as in Brian2's `exponential_euler` state updater.

    - `membrane="exponential"` (name `"exponential_euler"`): every component exponential,
      the membrane with C dV/dt = A − (Σ g)V as well (Brian2 / GENESIS's exponential Euler;
      Stimberg, Brette & Goodman 2019, eLife 8:e47314; BrainPy's `exp_auto` for HH).
    - `membrane="euler"` (name `"rush_larsen"`): the gates (`model.gate_state_names`)
      exponential, the other components by explicit Euler (Rush & Larsen 1978, IEEE Trans.
      Biomed. Eng. 25:389).

    Order 1, one stage (one evaluation of `model.linear_coefficients`, one `expm1` per
    component), no error estimate (fixed step only). Exact for frozen coefficients, so
    L-stable for the linear part: a component with h bᵢ → ∞ relaxes to x∞ᵢ in one step
    instead of overshooting as Euler does. Rush–Larsen keeps explicit Euler's stability bound
    for V (h Σg/C < 2). The model is read from the term: `scjax.simulate` passes it; in
    `diffrax.diffeqsolve` use `scjax.solvers.ModelTerm(model)`.

    Measured (`tests/test_exponential_euler.py`; 500 ms of constant current, spike times
    against `scjax.adaptive.solve`, `experiments/results/accuracy_exponential_euler.json`):

    - order 1.0 for both variants (state error slopes 0.98–1.02 on HH sub-threshold and
      Morris–Lecar firing; spike-time error slopes 0.94–1.00);
    - HH, I = 10 µA/cm²: the only one of Euler, RK4, Rush–Larsen and exponential Euler that
      stays finite at dt = 0.1 ms (33 of 35 spikes; gates stay in [0, 1]); Rush–Larsen
      diverges there like Euler (its V update is Euler's). It buys stability, not accuracy:
      spike-time drift ≈ 245·dt ms (exponential) and 159·dt (Rush–Larsen) against 12·dt for
      Euler. With x∞ frozen, the local error of a gate is h²·ẋ∞/(2τ), Euler's is
      h²·(ẋ∞ − ẋ)/(2τ), nearly zero while a fast gate (m, τ ≈ 0.1–0.5 ms) tracks its moving
      steady state x∞(V(t)) on the upstroke;
    - Morris–Lecar, I = 100 µA/cm²: drift 25·dt (exponential; m∞(V) frozen in the membrane
      rate), 2.1·dt (Rush–Larsen), 4.1·dt (Euler).
    """

    membrane: Literal["exponential", "euler"] = eqx.field(static=True, default="exponential")

    def __check_init__(self):
        if self.membrane not in ("exponential", "euler"):
            raise ValueError(f"membrane must be 'exponential' or 'euler', got {self.membrane!r}")

    @property
    def name(self) -> str:
        """The integrator name this solver answers to."""
        return "exponential_euler" if self.membrane == "exponential" else "rush_larsen"

    def order(self, terms):
        return 1

    def step(self, terms, t0, t1, y0: State, args, solver_state, made_jump):
        del solver_state, made_jump
        model, direction = self._conductance_model(terms)
        h = terms.contr(t0, t1)
        drift, rate = model.linear_coefficients(t0 * direction, y0, args)
        slope = drift - rate * y0
        if self.membrane == "euler":
            rate = jnp.where(jnp.asarray(model.gate_mask), rate, jnp.zeros_like(rate))
        y1 = y0 + h * exprel(-h * rate) * slope
        return y1, None, dict(y0=y0, y1=y1), None, diffrax.RESULTS.successful

    def _conductance_model(self, terms) -> tuple[AbstractConductanceModel, ScalarLike]:
        """The model behind `terms` and the direction of integration (±1)."""
        direction = 1
        if isinstance(terms, WrapTerm):
            terms, direction = terms.term, terms.direction
        if not isinstance(terms, AbstractModelTerm):
            raise ValueError(
                f"terms must carry the model for ExponentialEuler ({self.name!r} reads its "
                f"linear_coefficients): pass scjax.solvers.ModelTerm(model), got "
                f"{type(terms).__name__}"
            )
        if not isinstance(terms.model, AbstractConductanceModel):
            raise ValueError(
                f"integrator {self.name!r} needs a conductance-based model (one that declares "
                f"linear_coefficients); {type(terms.model).__name__} is not. Models that "
                f"support it: {conductance_model_names()}"
            )
        return terms.model, direction
