"""Re-evaluate a function with some of its primitives replaced: how a run chooses the
implementation of a step's `expm1` (`_expm1_substitution`) or a kernel's float32 `exp` and
division (`_kernel_math`) without the model knowing.

`substituted(fn, rules)` traces `fn` to a jaxpr and evaluates it equation by equation: an
equation whose primitive has a rule is computed by the rule, calls (`jit`, `closed_call`) are
inlined so their equations are reached too, and every other primitive is bound as it was, so
the result differs from `fn`'s only where a rule computes differently. Equations inside a
loop, a conditional or a custom-derivative rule of `fn` are bound unchanged (a step has none).
"""

from collections.abc import Callable, Mapping

import jax
from jax.extend import core as jex_core

#: A replacement: `(equation, input values) -> output values` (a list), or None to bind the
#: primitive as it was (e.g. for a dtype the rule leaves alone).
Rule = Callable[[jex_core.JaxprEqn, list], "list | None"]

#: Call primitives whose body is evaluated in place (its equations substituted too).
_INLINE = {"pjit": "jaxpr", "jit": "jaxpr", "closed_call": "call_jaxpr", "core_call": "call_jaxpr"}


def substituted(fn, rules: Mapping[str, Rule]):
    """A function equal to `fn` (pytrees in, pytrees out) with the primitives named in
    `rules` computed by their rules."""

    def substituted_fn(*args):
        flat, tree = jax.tree.flatten(args)
        closed, out_shape = jax.make_jaxpr(
            lambda *xs: fn(*jax.tree.unflatten(tree, xs)), return_shape=True
        )(*flat)
        outputs = _evaluate(closed.jaxpr, closed.consts, flat, rules)
        return jax.tree.unflatten(jax.tree.structure(out_shape), outputs)

    return substituted_fn


def _evaluate(jaxpr, consts, args, rules: Mapping[str, Rule]) -> list:
    env = dict(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))

    def read(v):
        return v.val if isinstance(v, jex_core.Literal) else env[v]

    for eqn in jaxpr.eqns:
        inputs = [read(v) for v in eqn.invars]
        name = eqn.primitive.name
        rule = rules.get(name)
        outputs = None if rule is None else rule(eqn, inputs)
        if outputs is None and name in _INLINE:
            body = eqn.params[_INLINE[name]]
            outputs = _evaluate(body.jaxpr, body.consts, inputs, rules)
        elif outputs is None:
            values = eqn.primitive.bind(*inputs, **eqn.primitive.get_bind_params(eqn.params))
            outputs = values if eqn.primitive.multiple_results else [values]
        env.update(zip(eqn.outvars, outputs))
    return [read(v) for v in jaxpr.outvars]
