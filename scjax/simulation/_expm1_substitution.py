"""Run a step with its `expm1` evaluated by `scjax._polynomial_expm1` (`expm1="polynomial"`).

A model writes `jnp.expm1`; which implementation evaluates it is a choice of the run, not of
the model. `with_expm1(step, "polynomial")` re-evaluates `step`'s jaxpr with every `expm1`
replaced by `polynomial_expm1` (`_substitution`); every other primitive is bound as it was.
So results differ from the default's only where the two implementations round an `expm1`
differently (≤ 2 ulp each); an `expm1` inside a loop, a conditional or a custom-derivative
rule of the step keeps XLA's (none of the end-of-step solvers has one).

`exp` is left to XLA: its float64 `exp` is fast in the step (~11 µs per fusion of 10⁴ HH
neurons on one AVX-512 core), faster than the same reduction and polynomial (~15 µs), which
made HH RK4 slower (float32 −19 %). Only `expm1` pays. Dividing each polynomial result by
runtime ones, so that XLA computes it once (`_materialise`), did not pay either: its one
reader in HH's `exprel` is a division already.
"""

from .._polynomial_expm1 import polynomial_expm1
from ._substitution import substituted

#: The accepted values of `expm1=`: XLA's own (the historical default) or scjax's polynomial.
EXPM1_IMPLEMENTATIONS = ("xla", "polynomial")


def check_expm1(expm1) -> None:
    """`ValueError` unless `expm1` names one of `EXPM1_IMPLEMENTATIONS`."""
    if not isinstance(expm1, str) or expm1 not in EXPM1_IMPLEMENTATIONS:
        raise ValueError(f"expm1 must be one of {EXPM1_IMPLEMENTATIONS}, got {expm1!r}")


def with_expm1(step, expm1: str):
    """`step` itself for `expm1="xla"`; for `"polynomial"`, a function equal to `step` with
    every `expm1` evaluated by `polynomial_expm1` (`_substitution.substituted`)."""
    check_expm1(expm1)
    if expm1 == "xla":
        return step
    return substituted(step, {"expm1": lambda eqn, inputs: [polynomial_expm1(*inputs)]})
