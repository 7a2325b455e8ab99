"""Compute each shared intermediate of a batched step once ("materialising").

XLA's CPU backend fuses every output of a loop body into its own loop over the batch and,
having no multi-output fusion by default, copies into each of those loops every cheap
operation the output depends on. On a batched step that means the model's arithmetic is
recomputed once per state component it feeds: Izhikevich's new v (two Euler half steps,
~20 operations) was evaluated three times per step, for v, for u (which reads the new v)
and for the spike count, and the loop ran at a third of what the arithmetic allows.

XLA does not copy an *expensive* operation (a division, an exponential) into several
consumers: it computes it once into a buffer they all read. `materialised(fn)` uses that.
It traces `fn`, finds the intermediates that several outputs depend on through different
paths and that are worth computing once (at least `MIN_OPS` cheap operations deep), and
divides each by a runtime 1.0 (`x / 1 == x` exactly in IEEE arithmetic, NaN, ±inf and −0
included). The same primitives run on the same values in the same order, so results are
bitwise those of `fn` wherever the compiler contracts no multiply-add across the new
boundary (without FMA, as the parity tests run; experiments/loop_speed_ideas.py).
The 1.0 is a runtime value the caller passes, never a literal that XLA would fold.

It pays on cheap models whose step XLA would otherwise duplicate and nowhere else, so it
applies only where (measured, in-process A/B on 2 cores, N = 10⁴, float64;
experiments/loop_speed_ideas.py): the step has no expensive value that XLA computes once by
itself (HH's rate exponentials already split its step into many fusions; more of them did
not pay), and computing the chosen values once cuts the step's estimated work to at most
`MAX_WORK_RATIO` of XLA's own (Izhikevich 103 → 51 operations per neuron: 2.0–2.8× faster
in float64, 2× in float32; FitzHugh–Nagumo 53 → 32 and AdEx 85 → 71 gained nothing).
Because the chosen values are each written once and then read, every output also reads
the old state only through values computed before any output is written: XLA then
updates the carry in place instead of copying it every step.
"""

import jax
import jax.numpy as jnp
from jax.extend import core as jex_core

#: Primitives XLA's fusion treats as expensive: never copied into several consumers.
_EXPENSIVE = frozenset(
    """
    acos acosh asin asinh atan atan2 atanh cbrt cos cosh div erf erf_inv erfc exp exp2 expm1
    lgamma digamma log log1p logistic pow rem rsqrt sin sinh sqrt tan tanh
""".split()
)

#: Call primitives whose body is inlined for the analysis.
_INLINE = {"pjit": "jaxpr", "jit": "jaxpr", "closed_call": "call_jaxpr", "core_call": "call_jaxpr"}

#: The least number of cheap operations behind a value for computing it once to pay (an
#: extra pass over the batch and a division).
MIN_OPS = 3

#: The most work (`_Analysis.work`) left after computing the chosen values once, as a
#: fraction of XLA's own, for doing it (see the module docstring).
MAX_WORK_RATIO = 0.6


class _Graph:
    """A jaxpr with its calls inlined: nodes `(eqn, inputs, outputs)` over integer value ids
    (inputs may be `Literal`s), the constants by id and every value's abstract value."""

    def __init__(self):
        self.nodes: list = []
        self.consts: dict = {}
        self.avals: dict = {}
        self.n_values = 0

    def new(self, aval):
        self.avals[self.n_values] = aval
        self.n_values += 1
        return self.n_values - 1

    def add(self, jaxpr, consts, input_ids):
        env = {}

        def read(v):
            return v if isinstance(v, jex_core.Literal) else env[v]

        for v, c in zip(jaxpr.constvars, consts):
            i = self.new(v.aval)
            self.consts[i] = c
            env[v] = i
        for v, i in zip(jaxpr.invars, input_ids):
            env[v] = i
        for eqn in jaxpr.eqns:
            ins = [read(v) for v in eqn.invars]
            name = eqn.primitive.name
            if name in _INLINE:
                closed = eqn.params[_INLINE[name]]
                outs = self.add(closed.jaxpr, closed.consts, ins)
            else:
                outs = [self.new(v.aval) for v in eqn.outvars]
                self.nodes.append((eqn, ins, outs))
            for v, o in zip(eqn.outvars, outs):
                env[v] = o
        return [read(v) for v in jaxpr.outvars]


def _ids(values):
    return [v for v in values if not isinstance(v, jex_core.Literal)]


class _Analysis:
    """Producers, consumers and the outputs each value reaches, of a `_Graph`."""

    def __init__(self, graph: _Graph, output_ids):
        self.graph = graph
        self.outputs = set(output_ids)
        self.producer, self.consumers = {}, {}
        for k, (_, ins, outs) in enumerate(graph.nodes):
            for o in outs:
                self.producer[o] = k
            for i in set(_ids(ins)):
                self.consumers.setdefault(i, []).append(k)
        self.reaches: dict = {}
        for k in reversed(range(len(graph.nodes))):
            for o in graph.nodes[k][2]:
                reached = {o} if o in self.outputs else set()
                for c in self.consumers.get(o, []):
                    reached |= self.reached_by(c)
                self.reaches[o] = frozenset(reached)

    def reached_by(self, node: int) -> frozenset:
        return frozenset().union(*(self.reaches[o] for o in self.graph.nodes[node][2]))

    def primitive(self, i) -> str | None:
        return self.graph.nodes[self.producer[i]][0].primitive.name if i in self.producer else None

    def branches(self, i) -> bool:
        """Whether the paths from `i` to the outputs part: two consumers reach different sets
        of outputs, or `i` is an output that is also read (dead consumers do not count)."""
        sets = {self.reached_by(c) for c in self.consumers.get(i, [])}
        sets.discard(frozenset())  # dead code (e.g. a component a half step discards)
        return len(sets) > 1 or (i in self.outputs and bool(sets))

    def computed_once_anyway(self, i) -> bool:
        """An expensive value with several readers: XLA computes it once into a buffer."""
        readers = len(self.consumers.get(i, [])) + (i in self.outputs)
        return self.primitive(i) in _EXPENSIVE and readers > 1

    def work(self, roots: set) -> int:
        """The cheap operations XLA's CPU fusion evaluates per element: each output and each
        value in `roots` is one fusion, which recomputes every cheap operation behind it back
        to the inputs and the other roots."""
        total = 0
        for root in (self.outputs | roots) & self.producer.keys():
            seen, stack = set(), [self.producer[root]]
            while stack:
                k = stack.pop()
                if k in seen:
                    continue
                seen.add(k)
                total += self.graph.nodes[k][0].primitive.name not in _EXPENSIVE
                for i in set(_ids(self.graph.nodes[k][1])):
                    if i in self.producer and i not in roots:
                        stack.append(self.producer[i])
        return total


def _chosen(graph: _Graph, input_ids, output_ids, shape) -> set:
    """The values to compute once: `shape`-d floating-point intermediates where the paths to
    the outputs branch (`_Analysis.branches`) and that have at least MIN_OPS cheap
    operations behind them, counted back to inputs, constants, values already chosen and
    expensive values XLA computes once by itself (`_Analysis.computed_once_anyway`). None
    unless they cut the work of the step's fusions to at most `MAX_WORK_RATIO` of XLA's own
    (`_Analysis.work`): where the model's expensive operations already split the step into
    many fusions, more of them cost more in passes over the batch than they save."""
    analysis = _Analysis(graph, output_ids)
    anyway = {i for i in analysis.producer if analysis.computed_once_anyway(i)}
    chosen: set = set()
    ops: dict = {}
    for eqn, ins, outs in graph.nodes:
        behind = sum(
            ops[i]
            for i in set(_ids(ins))
            if i in analysis.producer and i not in chosen and i not in anyway
        )
        for o in outs:
            ops[o] = 0 if eqn.primitive.name in _EXPENSIVE else 1 + behind
            aval = graph.avals[o]
            if (
                o not in input_ids
                and aval.shape == shape
                and jnp.issubdtype(aval.dtype, jnp.floating)
                and ops[o] >= MIN_OPS
                and analysis.branches(o)
            ):
                chosen.add(o)
    if anyway or not chosen:
        return set()
    if analysis.work(chosen) > MAX_WORK_RATIO * analysis.work(set()):
        return set()
    return chosen


def runtime_ones(x: jax.Array) -> jax.Array:
    """An array of 1.0 shaped like `x` that no compiler can fold: `[x == x] + [x != x]` is
    1 for every x, NaN included, but XLA has no rule that knows it. A scalar or a broadcast
    divisor would not do: XLA rewrites `a / broadcast(b)` into `a · broadcast(1/b)`."""
    return (x == x).astype(x.dtype) + (x != x).astype(x.dtype)


def materialised(fn, shape):
    """`fn(*args)` → `g(one, *args)`, equal to `fn(*args)` bit for bit, with every
    intermediate of `shape` that several outputs share computed once (`one`: runtime ones
    of `shape`, `runtime_ones`). Values of other shapes are left as they are."""

    def wrapped(one, *args):
        flat, tree = jax.tree.flatten(args)
        closed, out_shape = jax.make_jaxpr(
            lambda *xs: fn(*jax.tree.unflatten(tree, xs)), return_shape=True
        )(*flat)
        graph = _Graph()
        input_ids = [graph.new(v.aval) for v in closed.jaxpr.invars]
        output_ids = graph.add(closed.jaxpr, closed.consts, input_ids)
        chosen = _chosen(graph, set(input_ids), _ids(output_ids), tuple(shape))
        if not chosen:
            return fn(*args)
        env = dict(zip(input_ids, flat))
        env.update(graph.consts)

        def read(v):
            return v.val if isinstance(v, jex_core.Literal) else env[v]

        for eqn, ins, outs in graph.nodes:
            values = eqn.primitive.bind(
                *map(read, ins), **eqn.primitive.get_bind_params(eqn.params)
            )
            values = values if eqn.primitive.multiple_results else [values]
            for o, x in zip(outs, values):
                if o in chosen:
                    x = jax.lax.div(x, one.astype(x.dtype))
                env[o] = x
        return jax.tree.unflatten(jax.tree.structure(out_shape), [read(o) for o in output_ids])

    return wrapped
