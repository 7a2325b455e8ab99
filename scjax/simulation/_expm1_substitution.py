"""Run a step with its `expm1` evaluated by `scjax._polynomial_expm1` (`expm1="polynomial"`).

A model writes `jnp.expm1`; which implementation evaluates it is a choice of the run, not of
the model. `with_expm1(step, "polynomial")` traces `step` and re-evaluates its jaxpr with every
`expm1` replaced by `polynomial_expm1`, calls (`jit`, `closed_call`) inlined; every other
primitive is bound as it was. So results differ from the default's only where the two
implementations round an `expm1` differently (≤ 2 ulp each); an `expm1` inside a loop, a
conditional or a custom-derivative rule of the step keeps XLA's (none of the end-of-step
solvers has one).

`exp` is left to XLA: its float64 `exp` is fast in the step (~11 µs per fusion of 10⁴ HH
neurons on one AVX-512 core), faster than the same reduction and polynomial (~15 µs), which
made HH RK4 slower (float32 −19 %). Only `expm1` pays. Dividing each polynomial result by
runtime ones, so that XLA computes it once (`_materialise`), did not pay either: its one
reader in HH's `exprel` is a division already.
"""

import jax
from jax.extend import core as jex_core

from .._polynomial_expm1 import polynomial_expm1

#: The accepted values of `expm1=`: XLA's own (the historical default) or scjax's polynomial.
EXPM1_IMPLEMENTATIONS = ("xla", "polynomial")

#: Call primitives whose body is evaluated in place (its `expm1` replaced too).
_INLINE = {"pjit": "jaxpr", "jit": "jaxpr", "closed_call": "call_jaxpr", "core_call": "call_jaxpr"}


def check_expm1(expm1) -> None:
    """`ValueError` unless `expm1` names one of `EXPM1_IMPLEMENTATIONS`."""
    if not isinstance(expm1, str) or expm1 not in EXPM1_IMPLEMENTATIONS:
        raise ValueError(f"expm1 must be one of {EXPM1_IMPLEMENTATIONS}, got {expm1!r}")


def with_expm1(step, expm1: str):
    """`step` itself for `expm1="xla"`; for `"polynomial"`, a function equal to `step` with
    every `expm1` evaluated by `polynomial_expm1`."""
    check_expm1(expm1)
    if expm1 == "xla":
        return step

    def substituted(*args):
        flat, tree = jax.tree.flatten(args)
        closed, out_shape = jax.make_jaxpr(
            lambda *xs: step(*jax.tree.unflatten(tree, xs)), return_shape=True
        )(*flat)
        outputs = _evaluate(closed.jaxpr, closed.consts, flat)
        return jax.tree.unflatten(jax.tree.structure(out_shape), outputs)

    return substituted


def _evaluate(jaxpr, consts, args) -> list:
    env = dict(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))

    def read(v):
        return v.val if isinstance(v, jex_core.Literal) else env[v]

    for eqn in jaxpr.eqns:
        inputs = [read(v) for v in eqn.invars]
        name = eqn.primitive.name
        if name == "expm1":
            outputs = [polynomial_expm1(*inputs)]
        elif name in _INLINE:
            body = eqn.params[_INLINE[name]]
            outputs = _evaluate(body.jaxpr, body.consts, inputs)
        else:
            values = eqn.primitive.bind(*inputs, **eqn.primitive.get_bind_params(eqn.params))
            outputs = values if eqn.primitive.multiple_results else [values]
        env.update(zip(eqn.outvars, outputs))
    return [read(v) for v in jaxpr.outvars]
