"""Fixed points f(y, I) = 0 of a model: one Newton solve (jit/vmap-able), and the search
for all of them in a box from a grid of seeds."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from jaxtyping import Array, Bool

from .._custom_types import ScalarLike, State
from .._validation import check_finite_scalar
from ..models._base import AbstractNeuronModel
from ._checks import check_bounds, check_model, float_dtype, newton_tolerance
from ._classify import classify
from ._jacobian import eigenvalues
from ._results import FixedPoint


def solve_fixed_point(
    model: AbstractNeuronModel,
    current: ScalarLike,
    y0: State,
    *,
    max_steps: int = 64,
) -> tuple[State, Bool[Array, ""]]:
    r"""One Newton solve of $f(y, I) = 0$ from the guess `y0` (`optimistix.Newton`, exact
    Jacobian, step tolerance $\varepsilon^{0.6}$ of the dtype). Returns `(y, converged)`;
    `converged` is False when Newton failed or left the finite range. jit/vmap-able."""
    y0 = jnp.asarray(y0)
    tol = newton_tolerance(y0.dtype)
    sol = optx.root_find(
        lambda y, i: model.vector_field(0.0, y, i),
        optx.Newton(rtol=tol, atol=tol),
        y0,
        jnp.asarray(current, y0.dtype),
        max_steps=max_steps,
        throw=False,
    )
    y = sol.value
    ok = (sol.result == optx.RESULTS.successful) & jnp.all(jnp.isfinite(y))
    return y, ok


def _seed_grid(bounds: np.ndarray, n_seeds: int | None, dtype) -> jax.Array:
    n = bounds.shape[0]
    if n_seeds is None:
        # about 256 seeds in all: 16 per axis in 2-D, 4 per axis for Hodgkin–Huxley.
        n_seeds = max(2, int(round(256 ** (1.0 / n))))
    if not (isinstance(n_seeds, (int, np.integer)) and n_seeds >= 1):
        raise ValueError(f"n_seeds must be a positive integer (seeds per axis), got {n_seeds!r}")
    # Cell centres rather than edges: seeds on the bounds themselves (gate = 0, V = V_min)
    # often sit where a vector field is degenerate.
    axes = [lo + (hi - lo) * (np.arange(n_seeds) + 0.5) / n_seeds for lo, hi in bounds]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, n)
    return jnp.asarray(grid, dtype)


#: Batches of (current, seed) pairs are padded to a multiple of this size, so every call on a
#: model reuses one compiled Newton kernel whatever the number of currents and seeds.
_CHUNK = 256


@eqx.filter_jit
def _solve_pairs(model, currents, seeds):
    return jax.vmap(lambda i, y0: solve_fixed_point(model, i, y0))(currents, seeds)


@eqx.filter_jit
def _eigenvalues_pairs(model, currents, states):
    return jax.vmap(lambda i, y: eigenvalues(model, y, i))(currents, states)


def _chunked(fn, model, currents, states):
    """`fn(model, currents[k], states[k])` over fixed-size chunks (the last padded by
    repetition), concatenated on the host."""
    n = currents.shape[0]
    pad = (-n) % _CHUNK
    currents = jnp.concatenate([currents, jnp.repeat(currents[-1:], pad, axis=0)])
    states = jnp.concatenate([states, jnp.repeat(states[-1:], pad, axis=0)])
    outs = [
        fn(model, currents[k : k + _CHUNK], states[k : k + _CHUNK])
        for k in range(0, n + pad, _CHUNK)
    ]
    return jax.tree.map(lambda *xs: np.concatenate([np.asarray(x) for x in xs])[:n], *outs)


def _solve_seeds(model, currents, seeds):
    """Newton from every seed at every current: (roots [C, S, n], converged [C, S])."""
    c, s = currents.shape[0], seeds.shape[0]
    roots, ok = _chunked(_solve_pairs, model, jnp.repeat(currents, s), jnp.tile(seeds, (c, 1)))
    return roots.reshape(c, s, -1), ok.reshape(c, s)


def _deduplicate(roots: np.ndarray, ok: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Unique converged roots inside `bounds`, sorted by the first state component."""
    width = bounds[:, 1] - bounds[:, 0]
    inside = ok & np.all((roots >= bounds[:, 0]) & (roots <= bounds[:, 1]), axis=-1)
    unique: list[np.ndarray] = []
    for r in roots[inside]:
        # Newton lands on a root to ~machine precision, so distinct seeds that found the same
        # root agree to far better than 1e-7 of the box; distinct roots are far further apart.
        if not any(np.max(np.abs(r - u) / width) < 1e-7 for u in unique):
            unique.append(r)
    unique.sort(key=lambda r: tuple(r))
    return np.asarray(unique).reshape(-1, bounds.shape[0])


def fixed_points_at_currents(
    model, currents: np.ndarray, bounds: np.ndarray, n_seeds: int | None
) -> list[list[FixedPoint]]:
    """`fixed_points` at every current, in one batched Newton solve (checked inputs)."""
    dtype = float_dtype()
    seeds = _seed_grid(bounds, n_seeds, dtype)
    roots, ok = _solve_seeds(model, jnp.asarray(currents, dtype), seeds)
    per_current = [_deduplicate(roots[k], ok[k], bounds) for k in range(len(currents))]
    flat_states = [s for states in per_current for s in states]
    flat_currents = [c for c, states in zip(currents, per_current) for _ in states]
    if not flat_states:
        return [[] for _ in currents]
    lam = _chunked(
        _eigenvalues_pairs,
        model,
        jnp.asarray(flat_currents, dtype),
        jnp.asarray(np.stack(flat_states), dtype),
    )
    out, k = [], 0
    for c, states in zip(currents, per_current):
        pts = []
        for s in states:
            pts.append(
                FixedPoint(state=s, current=float(c), eigenvalues=lam[k], kind=classify(lam[k]))
            )
            k += 1
        out.append(pts)
    return out


def fixed_points(
    model: AbstractNeuronModel,
    current: float,
    bounds,
    n_seeds: int | None = None,
) -> list[FixedPoint]:
    """All fixed points of `model` at a constant `current` inside `bounds`.

    Newton (`optimistix.Newton`) runs from a regular grid of `n_seeds` seeds per axis
    (cell centres of the box; default ≈ 256 seeds in all), vmapped; converged roots inside
    the box are deduplicated (to 1e-7 of the box width), sorted by the first state component
    (V) and classified from their Jacobian eigenvalues (see `classify`).

    Arguments:
        model: any scjax model.
        current: the constant injected current, in the model's units.
        bounds: one `(low, high)` pair per state component, e.g. `[(-80, 40), (-20, 20)]`
            for Izhikevich `(v, u)`; a root outside the box is not reported.
        n_seeds: seeds per axis (the grid has `n_seeds ** n_state` points).

    Returns:
        A list of `FixedPoint`, possibly empty.
    """
    check_model(model)
    check_finite_scalar("current", current)
    bounds = check_bounds(model, bounds)
    return fixed_points_at_currents(model, np.asarray([float(current)]), bounds, n_seeds)[0]
