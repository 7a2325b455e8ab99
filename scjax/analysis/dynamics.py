r"""Dynamical analysis of any scjax model: Jacobians, fixed points, nullclines, bifurcation
scans and F–I curves.

Everything numerical is JAX (`jax.jacfwd` Jacobians, vmapped `optimistix.Newton` solves,
vmapped `scjax.simulate` runs) and jit-/vmap-able: `jacobian`, `eigenvalues`,
`solve_fixed_point`, `fi_curve`. The functions that return a *variable number* of objects
(`fixed_points`, `nullclines`, `bifurcation_scan`) run those kernels over a batch of seeds,
then deduplicate, classify and link on the host.

A fixed point $y^*$ of $\dot y = f(y, I)$ is classified by the eigenvalues $\lambda_k$ of the
Jacobian $J = \partial f / \partial y$ at $y^*$ (Strogatz 2015, *Nonlinear Dynamics and
Chaos*, §5–6; Izhikevich 2007, *Dynamical Systems in Neuroscience*, ch. 4):
all $\operatorname{Re}\lambda < 0$ → stable (focus if the leading pair is complex, else node);
all $> 0$ → unstable node / focus; mixed signs → saddle (unstable focus when the unstable
directions are a complex pair, i.e. a saddle-focus); a leading pair with
$\operatorname{Re}\lambda \approx 0$ → centre-like; a real $\lambda \approx 0$ → non-hyperbolic.
"""

import dataclasses
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Complex, Float

from .._custom_types import ScalarLike, State
from .._validation import check_dt, check_finite_scalar
from ..models._base import AbstractNeuronModel

#: The labels `classify` returns.
KINDS: tuple[str, ...] = (
    "stable node", "stable focus", "unstable node", "unstable focus", "saddle",
    "centre-like", "non-hyperbolic",
)


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _check_model(model) -> None:
    if not isinstance(model, AbstractNeuronModel):
        raise ValueError(f"model must be a scjax model, got {type(model).__name__}")


def _check_bounds(model, bounds, *, n_dims: int | None = None) -> np.ndarray:
    """`bounds` is one `(low, high)` pair per state component; returns a float array [n, 2]."""
    n = model.n_state if n_dims is None else n_dims
    try:
        arr = np.asarray(bounds, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be {n} (low, high) pairs of numbers, got {bounds!r}")
    if arr.size == 0:
        raise ValueError(f"bounds must be {n} (low, high) pairs, got an empty sequence")
    if arr.shape != (n, 2):
        raise ValueError(
            f"bounds must have shape ({n}, 2): one (low, high) pair per state "
            f"{model.state_names[:n]}, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"bounds must be finite, got {arr.tolist()}")
    if not np.all(arr[:, 1] > arr[:, 0]):
        raise ValueError(f"bounds must have low < high in every pair, got {arr.tolist()}")
    return arr


def _check_currents(currents) -> np.ndarray:
    arr = np.asarray(currents, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"currents must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("currents must be finite")
    return arr


def _float_dtype():
    return jnp.result_type(float)


def _tolerance(dtype) -> float:
    # Newton converges quadratically: stopping when the step is below eps^0.6 leaves the
    # iterate at ~eps^1.2, i.e. machine precision (float64: step < 4e-10; float32: < 7e-5).
    return float(jnp.finfo(dtype).eps) ** 0.6


# --------------------------------------------------------------------------------------------
# Jacobian, eigenvalues, one Newton solve (all jit/vmap-able)
# --------------------------------------------------------------------------------------------


def jacobian(
    model: AbstractNeuronModel, y: State, current: ScalarLike
) -> Float[Array, "n_state n_state"]:
    r"""$J_{ij} = \partial f_i / \partial y_j$ of `model.vector_field` at state `y` and a constant
    `current`, by forward-mode AD (`jax.jacfwd`). Units: 1/ms scaled by the state units."""
    return jax.jacfwd(lambda z: model.vector_field(0.0, z, current))(jnp.asarray(y))


def eigenvalues(
    model: AbstractNeuronModel, y: State, current: ScalarLike
) -> Complex[Array, " n_state"]:
    """Eigenvalues of `jacobian(model, y, current)`, sorted by decreasing real part (the
    leading eigenvalue first; a complex pair with positive imaginary part first)."""
    lam = jnp.linalg.eigvals(jacobian(model, y, current))
    return _sort_eigenvalues(lam)


def _sort_eigenvalues(lam):
    # lexsort: primary key −Re (descending real part), secondary −Im (positive partner first).
    order = jnp.lexsort((-jnp.imag(lam), -jnp.real(lam)))
    return lam[order]


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
    import optimistix as optx  # lazy: keeps `import scjax.analysis` cheap

    y0 = jnp.asarray(y0)
    tol = _tolerance(y0.dtype)
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


# --------------------------------------------------------------------------------------------
# Fixed points
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FixedPoint:
    """A fixed point found by `fixed_points` (host values).

    Fields:
        state: `y*`, shape `[n_state]`.
        current: the constant current it belongs to.
        eigenvalues: of the Jacobian at `y*`, by decreasing real part.
        kind: one of `KINDS` ("stable node", "saddle", ...).
    """

    state: np.ndarray
    current: float
    eigenvalues: np.ndarray
    kind: str

    @property
    def stable(self) -> bool:
        return self.kind in ("stable node", "stable focus")

    @property
    def n_unstable(self) -> int:
        """Number of eigenvalues with positive real part (the unstable dimension)."""
        return int(np.sum(np.real(self.eigenvalues) > _centre_tol(self.eigenvalues)))


def _centre_tol(lam) -> float:
    scale = float(np.max(np.abs(lam))) if np.size(lam) else 1.0
    return 1e-9 * max(scale, 1e-12)


def classify(eigvals) -> str:
    """The label of a fixed point with these Jacobian eigenvalues (see the module docstring)."""
    lam = np.asarray(eigvals)
    tol = _centre_tol(lam)
    re, im = np.real(lam), np.imag(lam)
    complex_ = np.abs(im) > tol
    zero = np.abs(re) <= tol
    if np.any(zero & ~complex_):
        return "non-hyperbolic"
    if np.any(zero & complex_):
        return "centre-like"
    unstable = re > 0
    if not np.any(unstable):
        return "stable focus" if complex_[np.argmax(re)] else "stable node"
    if np.all(unstable):
        return "unstable focus" if complex_[np.argmax(re)] else "unstable node"
    return "unstable focus" if np.all(complex_[unstable]) else "saddle"


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
    outs = [fn(model, currents[k:k + _CHUNK], states[k:k + _CHUNK])
            for k in range(0, n + pad, _CHUNK)]
    return jax.tree.map(lambda *xs: np.concatenate([np.asarray(x) for x in xs])[:n], *outs)


def _solve_seeds(model, currents, seeds):
    """Newton from every seed at every current: (roots [C, S, n], converged [C, S])."""
    c, s = currents.shape[0], seeds.shape[0]
    roots, ok = _chunked(_solve_pairs, model, jnp.repeat(currents, s),
                         jnp.tile(seeds, (c, 1)))
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


def _fixed_points_at(model, currents: np.ndarray, bounds: np.ndarray, n_seeds):
    dtype = _float_dtype()
    seeds = _seed_grid(bounds, n_seeds, dtype)
    roots, ok = _solve_seeds(model, jnp.asarray(currents, dtype), seeds)
    roots, ok = np.asarray(roots), np.asarray(ok)
    per_current = [_deduplicate(roots[k], ok[k], bounds) for k in range(len(currents))]
    flat_states = [s for states in per_current for s in states]
    flat_currents = [c for c, states in zip(currents, per_current) for _ in states]
    if not flat_states:
        return [[] for _ in currents]
    lam = _chunked(_eigenvalues_pairs, model, jnp.asarray(flat_currents, dtype),
                   jnp.asarray(np.stack(flat_states), dtype))
    out, k = [], 0
    for c, states in zip(currents, per_current):
        pts = []
        for s in states:
            pts.append(FixedPoint(state=s, current=float(c), eigenvalues=lam[k],
                                  kind=classify(lam[k])))
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
    _check_model(model)
    check_finite_scalar("current", current)
    bounds = _check_bounds(model, bounds)
    return _fixed_points_at(model, np.asarray([float(current)]), bounds, n_seeds)[0]


# --------------------------------------------------------------------------------------------
# Nullclines (2-D models): marching squares on a grid, crossings refined on the grid edges
# --------------------------------------------------------------------------------------------


@eqx.filter_jit
def _field_on_grid(model, current, xs, ys):
    f = lambda x, y: model.vector_field(0.0, jnp.stack([x, y]), current)  # noqa: E731
    return jax.vmap(jax.vmap(f, in_axes=(None, 0)), in_axes=(0, None))(xs, ys)  # [nx, ny, 2]


@eqx.filter_jit
def _refine_on_edges(model, current, component, a, b, n_iter: int = 60):
    """Bisection of f_component along the segments a→b (the root is bracketed on each), then
    one secant step in the final bracket: the crossing to machine precision."""

    def g(p):
        return model.vector_field(0.0, p, current)[component]

    def one(pa, pb):
        ga = g(pa)

        def body(_, carry):
            lo, hi, g_lo = carry
            mid = 0.5 * (lo + hi)
            g_mid = g(mid)
            same = jnp.sign(g_mid) == jnp.sign(g_lo)
            return (jnp.where(same, mid, lo), jnp.where(same, hi, mid),
                    jnp.where(same, g_mid, g_lo))

        lo, hi, g_lo = jax.lax.fori_loop(0, n_iter, body, (pa, pb, ga))
        g_hi = g(hi)
        denom = g_hi - g_lo
        w = jnp.where(denom != 0, g_lo / jnp.where(denom != 0, denom, 1.0), 0.5)
        return lo + jnp.clip(w, 0.0, 1.0) * (hi - lo)

    return jax.vmap(one)(a, b)


def _contour_polylines(values: np.ndarray):
    """Polylines of the zero set of `values` [nx, ny] as lists of grid-edge ids.

    Marching squares (Lorensen & Cline 1987, 2-D case): an edge is crossed when its end
    values have different signs; a cell with two crossed edges links them; a cell with four
    (a saddle cell) links them in the pairs that keep the centre's sign region connected.
    Chains are then walked from their open ends (on the grid boundary) and the remaining
    closed loops from any edge.
    """
    s = values > 0
    nx, ny = s.shape
    links: dict[tuple, list[tuple]] = {}

    def link(e1, e2):
        links.setdefault(e1, []).append(e2)
        links.setdefault(e2, []).append(e1)

    crossed_h = s[:-1, :] != s[1:, :]  # [nx-1, ny]
    crossed_v = s[:, :-1] != s[:, 1:]  # [nx, ny-1]
    n_cross = (crossed_h[:, :-1].astype(int) + crossed_h[:, 1:] + crossed_v[:-1, :]
               + crossed_v[1:, :])
    for i, j in zip(*np.nonzero(n_cross)):
        e = [("h", i, j), ("v", i + 1, j), ("h", i, j + 1), ("v", i, j)]  # bottom right top left
        c = [crossed_h[i, j], crossed_v[i + 1, j], crossed_h[i, j + 1], crossed_v[i, j]]
        if n_cross[i, j] == 2:
            a, b = [e[k] for k in range(4) if c[k]]
            link(a, b)
        else:  # saddle cell: corners bl, tr share a sign, br, tl the other
            centre = 0.25 * (values[i, j] + values[i + 1, j] + values[i + 1, j + 1]
                             + values[i, j + 1])
            if (centre > 0) == s[i, j]:
                link(e[0], e[1])  # around the bottom-right corner
                link(e[2], e[3])  # around the top-left corner
            else:
                link(e[3], e[0])
                link(e[1], e[2])
    seen: set = set()
    chains: list[list[tuple]] = []

    def walk(start):
        chain, prev, cur = [start], None, start
        seen.add(start)
        while True:
            nxt = [e for e in links[cur] if e != prev and e not in seen]
            if not nxt:
                # close a loop when the only way on is back to the start
                if prev is not None and start in links[cur] and len(chain) > 2:
                    chain.append(start)
                return chain
            prev, cur = cur, nxt[0]
            seen.add(cur)
            chain.append(cur)

    for e, nb in links.items():  # open chains start at a boundary edge (one neighbour)
        if len(nb) == 1 and e not in seen:
            chains.append(walk(e))
    for e in links:
        if e not in seen:
            chains.append(walk(e))
    return chains


class Nullclines(NamedTuple):
    """Nullclines of a 2-D model, by state component: `lines[name]` is a list of polylines,
    each an array `[P, 2]` of `(x, y)` points (state 0 on x, state 1 on y) where
    d(name)/dt = 0. Points lie on the nullcline to machine precision."""

    state_names: tuple[str, str]
    current: float
    lines: dict[str, list[np.ndarray]]


def nullclines(
    model: AbstractNeuronModel,
    current: float,
    bounds,
    resolution: int = 200,
) -> Nullclines:
    """The nullclines f_k(x, y) = 0 (k = each state) of a two-state model inside `bounds`.

    The vector field is evaluated on a `resolution × resolution` grid (vmapped); marching
    squares gives the topology (which grid edges each nullcline crosses, joined into
    polylines); every crossing is then refined by bisection along its grid edge on the exact
    vector field, so points are exact to machine precision (not just to the grid).

    Arguments:
        model: a scjax model with two states (FitzHugh–Nagumo, Morris–Lecar, Izhikevich,
            AdEx, or a reduced system).
        current: the constant current.
        bounds: `[(x_low, x_high), (y_low, y_high)]` for the two states.
        resolution: grid points per axis (≥ 3).
    """
    _check_model(model)
    if model.n_state != 2:
        raise ValueError(
            f"model must have two states for nullclines, {type(model).__name__} has "
            f"{model.n_state} {model.state_names}"
        )
    check_finite_scalar("current", current)
    bounds = _check_bounds(model, bounds)
    if not (isinstance(resolution, (int, np.integer)) and resolution >= 3):
        raise ValueError(f"resolution must be an integer >= 3, got {resolution!r}")
    dtype = _float_dtype()
    xs = jnp.linspace(bounds[0, 0], bounds[0, 1], resolution, dtype=dtype)
    ys = jnp.linspace(bounds[1, 0], bounds[1, 1], resolution, dtype=dtype)
    values = np.asarray(_field_on_grid(model, jnp.asarray(current, dtype), xs, ys))
    xs_np, ys_np = np.asarray(xs), np.asarray(ys)
    lines: dict[str, list[np.ndarray]] = {}
    for k, name in enumerate(model.state_names):
        chains = _contour_polylines(values[..., k])
        edges = sorted({e for chain in chains for e in chain})
        if not edges:
            lines[name] = []
            continue
        a = np.array([(xs_np[i], ys_np[j]) for _, i, j in edges])
        b = np.array([(xs_np[i + 1], ys_np[j]) if d == "h" else (xs_np[i], ys_np[j + 1])
                      for d, i, j in edges])
        pts = np.asarray(_refine_on_edges(model, jnp.asarray(current, dtype), k,
                                          jnp.asarray(a, dtype), jnp.asarray(b, dtype)))
        where = {e: p for e, p in zip(edges, pts)}
        lines[name] = [np.stack([where[e] for e in chain]) for chain in chains]
    return Nullclines(state_names=tuple(model.state_names), current=float(current),
                      lines=lines)


# --------------------------------------------------------------------------------------------
# Bifurcation scan
# --------------------------------------------------------------------------------------------


class Bifurcation(NamedTuple):
    """A codimension-one bifurcation of the fixed points along the current.

    Fields:
        kind: `"hopf"` (a complex pair crosses the imaginary axis) or `"saddle-node"`
            (a real eigenvalue crosses zero; two fixed points merge and vanish).
        current: where it happens, refined to ~1e-10 (bisection for Hopf, Newton on the
            fold system for saddle-node).
        state: the fixed point there.
        eigenvalues: of the Jacobian there (for Hopf, ±iω with ω the onset angular
            frequency in rad/ms).
    """

    kind: str
    current: float
    state: np.ndarray
    eigenvalues: np.ndarray


@dataclasses.dataclass(frozen=True)
class BifurcationScan:
    """Result of `bifurcation_scan`.

    Fields:
        currents: the scanned currents `[C]`.
        fixed_points: per current, the list of `FixedPoint`s (sorted by V).
        bifurcations: the located Hopf and saddle-node points, by current.
        v_min, v_max: `[C]` the simulated min / max of V after the transient (the
            limit-cycle envelope where the model oscillates; equal to V* at a stable rest);
            None when no simulation was asked for.
    """

    currents: np.ndarray
    fixed_points: list[list[FixedPoint]]
    bifurcations: list[Bifurcation]
    v_min: np.ndarray | None = None
    v_max: np.ndarray | None = None

    def hopf_currents(self) -> list[float]:
        return [b.current for b in self.bifurcations if b.kind == "hopf"]

    def saddle_node_currents(self) -> list[float]:
        return [b.current for b in self.bifurcations if b.kind == "saddle-node"]


@eqx.filter_jit
def _bisect_crossing(model, lo, hi, y_lo, index: int, n_iter: int = 60):
    r"""Bisection on $g(I) = \operatorname{Re}\lambda_{index}(J(y^*(I), I))$ (eigenvalues by
    decreasing real part) over [lo, hi], where g changes sign. $y^*(I)$ is re-solved by Newton
    at each midpoint, warm-started from the last solution (natural continuation)."""

    def g(i, y_guess):
        y, _ = solve_fixed_point(model, i, y_guess)
        return jnp.real(eigenvalues(model, y, i))[index], y

    g_lo, y_lo = g(lo, y_lo)

    def body(_, carry):
        lo, hi, g_lo, y = carry
        mid = 0.5 * (lo + hi)
        g_mid, y_mid = g(mid, y)
        same = jnp.sign(g_mid) == jnp.sign(g_lo)
        return (jnp.where(same, mid, lo), jnp.where(same, hi, mid),
                jnp.where(same, g_mid, g_lo), y_mid)

    lo, hi, _, y = jax.lax.fori_loop(0, n_iter, body, (lo, hi, g_lo, y_lo))
    mid = 0.5 * (lo + hi)
    y, ok = solve_fixed_point(model, mid, y)
    return mid, y, eigenvalues(model, y, mid), ok


@eqx.filter_jit
def _fold_newton(model, y0, i0):
    r"""Newton on the fold (saddle-node) system in $(y, I)$:
    $f(y, I) = 0,\ \det J(y, I) = 0$ — a regular root at a generic fold, so the
    convergence is quadratic (Kuznetsov 2004, *Elements of Applied Bifurcation Theory*,
    §10.2)."""
    import optimistix as optx

    def fold(z, _):
        y, i = z[:-1], z[-1]
        return jnp.concatenate([model.vector_field(0.0, y, i),
                                jnp.linalg.det(jacobian(model, y, i))[None]])

    z0 = jnp.concatenate([y0, i0[None]])
    tol = _tolerance(z0.dtype)
    sol = optx.root_find(fold, optx.Newton(rtol=tol, atol=tol), z0, max_steps=64, throw=False)
    z = sol.value
    ok = (sol.result == optx.RESULTS.successful) & jnp.all(jnp.isfinite(z))
    y, i = z[:-1], z[-1]
    return i, y, eigenvalues(model, y, i), ok


def _locate_bifurcations(model, currents, fps, bounds) -> list[Bifurcation]:
    dtype = _float_dtype()
    width = bounds[:, 1] - bounds[:, 0]
    found: list[Bifurcation] = []
    for k in range(len(currents) - 1):
        lo, hi = float(currents[k]), float(currents[k + 1])
        a, b = fps[k], fps[k + 1]
        if len(a) != len(b):
            # Saddle-node: two fixed points merge (2 → 0, or 2 → 1 → 0 when a grid current
            # hits the fold itself). Seed the fold system with the midpoint of the closest
            # pair on the side that has more points, or with the single (double) root.
            more, i_seed = (a, lo) if len(a) > len(b) else (b, hi)
            states = np.stack([p.state for p in more])
            if len(states) > 1:
                d = np.max(np.abs(np.diff(states, axis=0)) / width, axis=-1)
                j = int(np.argmin(d))
                y0 = 0.5 * (states[j] + states[j + 1])
            else:
                y0 = states[0]
            i, y, lam, ok = _fold_newton(model, jnp.asarray(y0, dtype),
                                         jnp.asarray(i_seed, dtype))
            span = hi - lo
            i, y = float(i), np.asarray(y)
            duplicate = any(f.kind == "saddle-node" and abs(f.current - i) <= 1e-8 * span
                            and np.max(np.abs(f.state - y) / width) < 1e-6 for f in found)
            if bool(ok) and lo - 1e-6 * span <= i <= hi + 1e-6 * span and not duplicate:
                found.append(Bifurcation("saddle-node", i, y, np.asarray(lam)))
        # Hopf: follow each fixed point to its nearest neighbour at the next current; the
        # unstable dimension changes by two while det J keeps its sign (no real eigenvalue
        # crossed zero, so it was a complex pair).
        for p in a:
            if not b:
                break
            dist = [np.max(np.abs(q.state - p.state) / width) for q in b]
            q = b[int(np.argmin(dist))]
            det_p, det_q = np.prod(p.eigenvalues).real, np.prod(q.eigenvalues).real
            if p.n_unstable == q.n_unstable or np.sign(det_p) != np.sign(det_q):
                continue
            index = min(p.n_unstable, q.n_unstable)  # the eigenvalue (pair) that crosses
            i, y, lam, ok = _bisect_crossing(model, jnp.asarray(lo, dtype),
                                             jnp.asarray(hi, dtype),
                                             jnp.asarray(p.state, dtype), index)
            if bool(ok) and abs(np.imag(np.asarray(lam)[index])) > 0:
                found.append(Bifurcation("hopf", float(i), np.asarray(y), np.asarray(lam)))
    found.sort(key=lambda b: b.current)
    return found


def bifurcation_scan(
    model: AbstractNeuronModel,
    currents,
    bounds,
    n_seeds: int | None = None,
    *,
    dt: float | None = None,
    duration: float | None = None,
    transient: float | None = None,
    solver=None,
) -> BifurcationScan:
    """Fixed points and their stability along a range of constant currents, the Hopf and
    saddle-node points between them, and (optionally) the simulated envelope of V.

    1. At every current, Newton from the seed grid (as `fixed_points`), vmapped over seeds
       and currents in one jit; deduplicated and classified on the host.
    2. Between neighbouring currents: a change in the number of fixed points by two is a
       saddle-node, located by Newton on the fold system f = 0, det J = 0; a fixed point whose
       unstable dimension changes by two while det J keeps its sign is a Hopf point, located
       by bisection (60 halvings) on the real part of the crossing eigenvalue pair, the fixed
       point being re-solved by Newton at each midpoint. Bifurcations that happen and undo
       between two neighbouring currents are not seen: scan finely enough.
    3. With `dt` and `duration` (ms): every current is simulated from `model.initial_state()`
       (vmapped `scjax.simulate`), and the min / max of V after `transient` (default: half
       the duration) give the limit-cycle envelope of the bifurcation diagram.

    Arguments:
        model: any scjax model.
        currents: 1-D array of constant currents (increasing for a readable diagram).
        bounds, n_seeds: the fixed-point search box and seeds per axis (see `fixed_points`).
        dt, duration, transient, solver: the envelope simulation (skipped when dt is None).
    """
    _check_model(model)
    currents = _check_currents(currents)
    bounds = _check_bounds(model, bounds)
    fps = _fixed_points_at(model, currents, bounds, n_seeds)
    bifurcations = _locate_bifurcations(model, currents, fps, bounds)
    v_min = v_max = None
    if dt is not None:
        if duration is None:
            raise ValueError("duration must be given with dt for the envelope simulation")
        traj, start = _simulate_currents(model, currents, dt, duration, transient, solver, None)
        v = np.asarray(traj.y[:, start:, model.spike_index])
        v_min, v_max = v.min(axis=1), v.max(axis=1)
    return BifurcationScan(currents=currents, fixed_points=fps, bifurcations=bifurcations,
                           v_min=v_min, v_max=v_max)


# --------------------------------------------------------------------------------------------
# F–I curve
# --------------------------------------------------------------------------------------------


def _simulate_currents(model, currents, dt, duration, transient, solver, y0):
    """One vmapped `scjax.simulate` per constant current; returns (trajectory, first index
    after the transient)."""
    from ..simulation import simulate

    check_dt(dt)
    check_finite_scalar("duration", duration, positive=True)
    n_steps = int(round(float(duration) / float(dt)))
    if n_steps < 1:
        raise ValueError(f"duration must be at least one step dt = {dt}, got {duration}")
    if transient is None:
        transient = 0.5 * float(duration)
    check_finite_scalar("transient", transient, nonnegative=True)
    start = int(round(float(transient) / float(dt)))
    if start >= n_steps:
        raise ValueError(f"transient must be shorter than duration = {duration}, got {transient}")
    dtype = _float_dtype()
    currents = jnp.asarray(currents, dtype)

    def run(i, y):
        return simulate(model, jnp.full((n_steps,), i, dtype), dt, solver=solver, y0=y)

    if y0 is None:
        traj = jax.vmap(lambda i: run(i, None))(currents)
    else:
        y0 = jnp.asarray(y0, dtype)
        if y0.shape == (model.n_state,):
            traj = jax.vmap(run, in_axes=(0, None))(currents, y0)
        elif y0.shape == (currents.shape[0], model.n_state):
            traj = jax.vmap(run)(currents, y0)
        else:
            raise ValueError(
                f"y0 must have shape ({model.n_state},) or ({currents.shape[0]}, "
                f"{model.n_state}), got {y0.shape}"
            )
    return traj, start


def fi_curve(
    model: AbstractNeuronModel,
    currents,
    dt: float,
    duration: float,
    *,
    transient: float | None = None,
    solver=None,
    y0=None,
) -> Float[Array, " C"]:
    """Firing rate (Hz, with t in ms) under each constant current: the number of spikes after
    `transient` divided by the remaining time, from one vmapped `scjax.simulate`.

    Arguments:
        model: any scjax model (spikes by its own threshold / crossing rule).
        currents: `[C]` constant currents.
        dt, duration: step and length of every run, ms.
        transient: ms discarded before counting (default: half the duration), so the rate is
            the steady-state one and not the onset burst.
        solver: as in `scjax.simulate` (None: the model's integrator).
        y0: `[n_state]` or `[C, n_state]` initial states (default `model.initial_state()`,
            i.e. a current step from rest).
    """
    _check_model(model)
    currents = _check_currents(currents)
    traj, start = _simulate_currents(model, currents, dt, duration, transient, solver, y0)
    # spikes[n] is the step t[n] → t[n+1]; count the steps that start after the transient.
    n = jnp.sum(traj.spikes[:, start:], axis=-1)
    window_ms = (traj.spikes.shape[-1] - start) * float(dt)
    return 1000.0 * n / window_ms


__all__ = [
    "KINDS", "Bifurcation", "BifurcationScan", "FixedPoint", "Nullclines", "bifurcation_scan",
    "classify", "eigenvalues", "fi_curve", "fixed_points", "jacobian", "nullclines",
    "solve_fixed_point",
]
