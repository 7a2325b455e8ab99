"""Nullclines of a two-state model: contour topology from contourpy's marching squares on a
grid, every contour point then refined on the exact vector field."""

from typing import cast

import contourpy
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from .._validation import check_finite_scalar
from ..models._base import AbstractNeuronModel
from ._checks import check_bounds, check_model, float_dtype
from ._results import Nullclines

#: Bisection stops once the bracket is below this fraction of a grid edge (and the secant
#: estimate of the distance to the root is too); one secant step then reaches machine
#: precision. max steps: the bracket is below one ulp of [0, 1] after 53 halvings.
_EDGE_ATOL = 1e-12
_EDGE_MAX_STEPS = 64


@eqx.filter_jit
def _field_on_grid(model, current, xs, ys):
    f = lambda x, y: model.vector_field(0.0, jnp.stack([x, y]), current)  # noqa: E731
    return jax.vmap(jax.vmap(f, in_axes=(None, 0)), in_axes=(0, None))(xs, ys)  # [nx, ny, 2]


@eqx.filter_jit
def _refine_on_edges(model, current, component: int, a, b):
    """The crossing of f_component = 0 on each segment a → b (bracketed on each):
    `optimistix.Bisection` in the edge fraction s, then one secant step in the final
    bracket."""

    def one(pa, pb):
        def g(s):
            return model.vector_field(0.0, pa + s * (pb - pa), current)[component]

        # g over its change along the edge: ≤ 0 at s = 0, ≥ 0 at s = 1 (so `flip=False`),
        # and its value is the secant estimate of the distance to the root in edge fractions.
        rise = g(1.0) - g(0.0)
        rise = jnp.where(rise != 0, rise, 1.0)
        sol = optx.root_find(
            lambda s, _: g(s) / rise,
            optx.Bisection(rtol=0.0, atol=_EDGE_ATOL, flip=False),
            jnp.asarray(0.5, pa.dtype),
            options=dict(lower=0.0, upper=1.0),
            max_steps=_EDGE_MAX_STEPS,
            throw=False,
        )
        lo, hi = sol.state.lower, sol.state.upper
        g_lo, g_hi = g(lo), g(hi)
        denom = g_hi - g_lo
        w = jnp.where(denom != 0, -g_lo / jnp.where(denom != 0, denom, 1.0), 0.5)
        s = lo + jnp.clip(w, 0.0, 1.0) * (hi - lo)
        return pa + s * (pb - pa)

    return jax.vmap(one)(a, b)


def _edges_of(points, xs, ys, above):
    """The grid edge each contour point lies on: (start, end, found). contourpy puts every
    point on an edge whose end values lie on either side of the level (`above` = value > 0);
    near a grid node the nearest edge by position may be the neighbour, so the neighbour is
    tried when the first guess is not crossed."""
    nx, ny = xs.shape[0], ys.shape[0]
    u = (points[:, 0] - xs[0]) / (xs[-1] - xs[0]) * (nx - 1)
    v = (points[:, 1] - ys[0]) / (ys[-1] - ys[0]) * (ny - 1)
    horizontal = np.abs(v - np.round(v)) <= np.abs(u - np.round(u))
    # along = index of the edge's start along its direction; fixed = the grid line it is on
    along = np.where(horizontal, u, v)
    n_along = np.where(horizontal, nx, ny)
    fixed = np.where(horizontal, np.round(v), np.round(u)).astype(int)
    fixed = np.clip(fixed, 0, np.where(horizontal, ny, nx) - 1)
    start = np.clip(np.floor(along).astype(int), 0, n_along - 2)

    def crossed(k):
        k = np.clip(k, 0, n_along - 2)
        i0 = np.where(horizontal, k, fixed)
        j0 = np.where(horizontal, fixed, k)
        i1, j1 = i0 + horizontal, j0 + ~horizontal
        return above[i0, j0] != above[i1, j1], (i0, j0, i1, j1)

    ok, nodes = crossed(start)
    ok2, nodes2 = crossed(np.where(along - start < 0.5, start - 1, start + 1))
    use2 = ~ok & ok2
    i0, j0, i1, j1 = (np.where(use2, n2, n1) for n1, n2 in zip(nodes, nodes2))
    a = np.stack([xs[i0], ys[j0]], axis=-1)
    b = np.stack([xs[i1], ys[j1]], axis=-1)
    return a, b, ok | ok2


def _padded(x: np.ndarray) -> np.ndarray:
    """Repeat the last row up to a power of two (≥ 64), so a few compiled refinements serve
    every nullcline."""
    n = max(64, 1 << int(np.ceil(np.log2(max(len(x), 1)))))
    return np.concatenate([x, np.repeat(x[-1:], n - len(x), axis=0)])


def nullclines(
    model: AbstractNeuronModel,
    current: float,
    bounds,
    resolution: int = 200,
) -> Nullclines:
    """The nullclines f_k(x, y) = 0 (k = each state) of a two-state model inside `bounds`.

    The vector field is evaluated on a `resolution × resolution` grid (vmapped); contourpy's
    marching squares (Lorensen & Cline 1987; `contourpy.contour_generator`, the algorithm
    behind matplotlib's `contour`) gives the topology: the polylines, each point on a grid
    edge whose ends lie on either side of zero. Every point is then refined by bisection
    along its grid edge on the exact vector field (`optimistix.Bisection`, then one secant
    step), so points lie on the nullcline to machine precision, not just to the grid.

    Arguments:
        model: a scjax model with two states (FitzHugh–Nagumo, Morris–Lecar, Izhikevich,
            AdEx, or a reduced system).
        current: the constant current.
        bounds: `[(x_low, x_high), (y_low, y_high)]` for the two states.
        resolution: grid points per axis (≥ 3).
    """
    check_model(model)
    if model.n_state != 2:
        raise ValueError(
            f"model must have two states for nullclines, {type(model).__name__} has "
            f"{model.n_state} {model.state_names}"
        )
    check_finite_scalar("current", current)
    bounds = check_bounds(model, bounds)
    if not (isinstance(resolution, (int, np.integer)) and resolution >= 3):
        raise ValueError(f"resolution must be an integer >= 3, got {resolution!r}")
    dtype = float_dtype()
    xs = jnp.linspace(bounds[0, 0], bounds[0, 1], resolution, dtype=dtype)
    ys = jnp.linspace(bounds[1, 0], bounds[1, 1], resolution, dtype=dtype)
    i = jnp.asarray(current, dtype)
    values = np.asarray(_field_on_grid(model, i, xs, ys))  # [nx, ny, 2]
    xs_np, ys_np = np.asarray(xs), np.asarray(ys)
    lines: dict[str, list[np.ndarray]] = {}
    for k, name in enumerate(model.state_names):
        z = values[..., k]
        # contourpy wants z[y, x]; the serial algorithm puts every point on a grid edge.
        # LineType.Separate: one (P, 2) array per polyline (contourpy types every line type).
        polylines = cast(
            list[np.ndarray],
            contourpy.contour_generator(
                xs_np,
                ys_np,
                z.T,
                name="serial",
                line_type=contourpy.LineType.Separate,
                quad_as_tri=False,
            ).lines(0.0),
        )
        if not polylines:
            lines[name] = []
            continue
        points = np.concatenate(polylines)
        a, b, found = _edges_of(points, xs_np, ys_np, z > 0)
        refined = np.asarray(
            _refine_on_edges(
                model, i, k, jnp.asarray(_padded(a), dtype), jnp.asarray(_padded(b), dtype)
            )
        )[: len(points)]
        refined = np.where(found[:, None], refined, points)
        splits = np.cumsum([len(p) for p in polylines])[:-1]
        lines[name] = np.split(refined, splits)
    x_name, y_name = model.state_names  # two states, checked above
    return Nullclines(state_names=(x_name, y_name), current=float(current), lines=lines)
