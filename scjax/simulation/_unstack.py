"""Run a one-neuron step on its state components separately ("unstacking").

A model's state is a 1-D array `[n_state]`: `vector_field` reads `y[0], y[1]` and returns
`jnp.stack([dv, du])`, and solvers combine such vectors (`y + h·f`). Vmapped over a batch this
becomes arithmetic on `[n_state, B]` arrays glued by concatenations; XLA's CPU backend then
lays the carry out interleaved, computes components that are thrown away (a half-step Euler
discards half of every evaluation) and splits the step into many fusions: on Izhikevich the
loop ran at a fraction of a hand-written loop over separate `[B]` vectors.

`unstacked(fn)` re-evaluates the jaxpr of `fn(*args, y)` with `y` held as a list of scalars:
elementwise primitives are applied component by component, `stack`/`slice`/`squeeze`/scalar
`scatter` move components around without arithmetic, and anything else (a matrix solve, a
custom derivative rule, a loop) gets the components stacked back into a real array first.
The same primitives run on the same values, so results are bitwise those of `fn`; vmapped,
every operation is on one contiguous `[B]` vector.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jex_core

try:
    from jax.core import Tracer as _Tracer
except ImportError:  # moved in newer JAX releases
    from jax._src.core import Tracer as _Tracer

_ELEMENTWISE = frozenset(
    """
    abs acos acosh add and asin asinh atan atan2 atanh cbrt ceil clamp convert_element_type copy
    copy_p cos cosh div eq erf erf_inv erfc exp exp2 expm1 floor ge gt integer_pow is_finite le
    lgamma log log1p logistic lt max min mul ne neg nextafter not or pow rem round rsqrt
    select_n sign sin sinh sqrt square sub tan tanh xor add_any stop_gradient
""".split()
)

#: Reductions whose result does not depend on the order of the components.
_REDUCTIONS = {"reduce_and": "and", "reduce_or": "or", "reduce_max": "max", "reduce_min": "min"}

#: Call primitives whose body may be inlined (no custom derivative rules, no loops).
_INLINE = {"pjit": "jaxpr", "jit": "jaxpr", "closed_call": "call_jaxpr", "core_call": "call_jaxpr"}


class _Split:
    """A 1-D array held as its components (scalars)."""

    __slots__ = ("parts",)

    def __init__(self, parts):
        self.parts = list(parts)


def unstacked(fn, n_state: int):
    """`fn(*args, y) -> (y_next, *others)` → `g(*args, components) -> (components_next,
    *others)` with `y = jnp.stack(components)`, computed component-wise where possible."""

    def wrapped(*args):
        *rest, components = args
        # Only its type is needed to trace `fn`: an abstract value, so no (dead) stack of the
        # components is staged into the program (a Pallas kernel would carry it).
        y = jax.ShapeDtypeStruct((len(components),), jnp.result_type(*components))
        flat, tree = jax.tree.flatten((*rest, y))
        closed, out_shape = jax.make_jaxpr(
            lambda *xs: fn(*jax.tree.unflatten(tree, xs)), return_shape=True
        )(*flat)
        env_inputs = list(flat)
        env_inputs[-1] = _Split(components)
        outs = _eval(closed.jaxpr, closed.consts, env_inputs)
        y_next, *others = jax.tree.unflatten(jax.tree.structure(out_shape), outs)
        y_next = y_next.parts if isinstance(y_next, _Split) else _parts(y_next, n_state)
        others = [_materialise(x) for x in others]  # e.g. a vector of spike times
        like = jax.tree.leaves(out_shape[0])[0]
        return (tuple(jnp.asarray(p, like.dtype) for p in y_next), *others)

    return wrapped


def _materialise(x):
    return jnp.stack(x.parts) if isinstance(x, _Split) else x


def _parts(x, n):
    """The n components of an operand: a `_Split`, a scalar (broadcast) or a `[n]` array."""
    if isinstance(x, _Split):
        return x.parts
    if jnp.ndim(x) == 0:
        return [x] * n
    if _is_concrete(x):
        # A constant vector (e.g. the NaN that `jnp.where(finite, y, jnp.nan)` broadcasts):
        # split now into NumPy scalars, which the trace inlines as literals, so no array
        # constant is left for the program to slice (a Pallas kernel may not capture one).
        values = np.asarray(x)
        return [values[i] for i in range(n)]
    return [x[i] for i in range(n)]


def _is_concrete(x) -> bool:
    return not isinstance(x, (_Tracer, _Split))


def _eval(jaxpr, consts, args):
    env = {}

    def read(v):
        return v.val if isinstance(v, jex_core.Literal) else env[v]

    for v, x in zip(jaxpr.constvars, consts):
        env[v] = x
    for v, x in zip(jaxpr.invars, args):
        env[v] = x
    for eqn in jaxpr.eqns:
        ins = [read(v) for v in eqn.invars]
        outs = _apply(eqn, ins)
        for v, x in zip(eqn.outvars, outs):
            env[v] = x
    return [read(v) for v in jaxpr.outvars]


def _bind(eqn, ins):
    """Apply an equation as `jax.core.eval_jaxpr` does (call primitives get their subfuns)."""
    out = eqn.primitive.bind(*ins, **eqn.primitive.get_bind_params(eqn.params))
    return out if eqn.primitive.multiple_results else [out]


def _apply(eqn, ins):
    prim, params = eqn.primitive, eqn.params
    name = prim.name
    if all(_is_concrete(x) for x in ins):
        # Constants (scatter indices, literals): evaluate now, keep them concrete.
        with jax.ensure_compile_time_eval():
            outs = _bind(eqn, ins)
        # As NumPy scalars, which a later trace inlines as literals: a Pallas kernel may not
        # capture an array constant (e.g. the `jnp.zeros(())` of a step).
        return [np.asarray(x)[()] if jnp.ndim(x) == 0 else x for x in outs]
    if name == "stack" and all(jnp.ndim(x) == 0 for x in ins if not isinstance(x, _Split)):
        out = _stack(eqn, ins)
        if out is not None:
            return [out]
    if not any(isinstance(x, _Split) for x in ins):
        out = _with_constant_vector(eqn, ins)
        return [out] if out is not None else _bind(eqn, ins)
    if name in _INLINE:
        closed = params[_INLINE[name]]
        return _eval(closed.jaxpr, closed.consts, ins)
    rule = _RULES.get(name)
    if rule is None and name in _ELEMENTWISE:
        rule = _elementwise
    if rule is not None:
        out = rule(eqn, ins)
        if out is not None:
            return [out]
    return _bind(eqn, [_materialise(x) for x in ins])


def _with_constant_vector(eqn, ins):
    """An elementwise equation on a constant vector (e.g. the zero ∂f/∂t of an autonomous
    model times a scalar), split too, so that no array constant is left (as in `_parts`);
    None for any other equation."""
    if eqn.primitive.name in _ELEMENTWISE and any(
        _is_concrete(x) and jnp.ndim(x) == 1 for x in ins
    ):
        return _elementwise(eqn, ins)
    return None


def _elementwise(eqn, ins):
    shape = eqn.outvars[0].aval.shape
    if len(shape) != 1:
        return None
    n = shape[0]
    columns = [_parts(x, n) for x in ins]
    return _Split(eqn.primitive.bind(*row, **eqn.params) for row in zip(*columns))


def _stack(eqn, ins):
    if eqn.params.get("axis", 0) != 0 or any(isinstance(x, _Split) for x in ins):
        return None
    return _Split(ins)


def _slice(eqn, ins):
    (x,) = ins
    p = eqn.params
    stride = (p["strides"] or (1,))[0]
    return _Split(x.parts[p["start_indices"][0] : p["limit_indices"][0] : stride])


def _squeeze(eqn, ins):
    (x,) = ins
    return x.parts[0] if len(x.parts) == 1 and eqn.params["dimensions"] == (0,) else None


def _reshape(eqn, ins):
    (x,) = ins[:1]
    shape = eqn.outvars[0].aval.shape
    if shape == () and len(x.parts) == 1:
        return x.parts[0]
    if shape == (len(x.parts),):
        return x
    return None


def _concatenate(eqn, ins):
    if eqn.params["dimension"] != 0 or any(
        jnp.ndim(_materialise(x)) != 1 for x in ins if not isinstance(x, _Split)
    ):
        return None
    parts = []
    for x in ins:
        parts.extend(_parts(x, jnp.shape(x)[0]) if not isinstance(x, _Split) else x.parts)
    return _Split(parts)


def _scatter(eqn, ins):
    """`y.at[i].set(v)` / `.add(v)` with constant scalar indices."""
    operand, indices, updates = ins
    dims = eqn.params["dimension_numbers"]
    if not (
        isinstance(operand, _Split)
        and _is_concrete(indices)
        and dims.update_window_dims == ()
        and dims.inserted_window_dims == (0,)
        and dims.scatter_dims_to_operand_dims == (0,)
    ):
        return None
    idx = np.asarray(indices).reshape(-1)
    values = _parts(updates, idx.size) if jnp.ndim(updates) else [updates]
    if len(values) != idx.size or isinstance(updates, _Split) and len(updates.parts) != idx.size:
        return None
    parts = list(operand.parts)
    for i, value in zip(idx, values):
        if 0 <= i < len(parts):  # FILL_OR_DROP: out-of-range updates are dropped
            parts[i] = value if eqn.primitive.name == "scatter" else parts[i] + value
    return _Split(parts)


def _reduce(eqn, ins):
    (x,) = ins
    if eqn.params["axes"] != (0,):
        return None
    op = {"and": jnp.logical_and, "or": jnp.logical_or, "max": jnp.maximum, "min": jnp.minimum}[
        _REDUCTIONS[eqn.primitive.name]
    ]
    out = x.parts[0]
    for part in x.parts[1:]:
        out = op(out, part)
    return out


_RULES = {
    "stack": _stack,
    "slice": _slice,
    "squeeze": _squeeze,
    "reshape": _reshape,
    "concatenate": _concatenate,
    "scatter": _scatter,
    "scatter-add": _scatter,
    **{name: _reduce for name in _REDUCTIONS},
}
