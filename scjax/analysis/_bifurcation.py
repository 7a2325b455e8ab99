"""Bifurcation scans along the current: fixed points and their stability, the Hopf and
saddle-node points between grid currents, and the simulated envelope of V."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from ..models._base import AbstractNeuronModel
from ._checks import check_bounds, check_currents, check_model, float_dtype, newton_tolerance
from ._fi_curve import simulate_currents
from ._fixed_points import fixed_points_at_currents, solve_fixed_point
from ._jacobian import eigenvalues, jacobian
from ._results import Bifurcation, BifurcationScan, FixedPoint

#: Hopf bisection: stop when the current bracket is below atol + rtol·|I| and |Re λ| < atol
#: (1/ms), i.e. at round-off; where round-off keeps |Re λ| above atol, the 64 halvings of
#: the max steps leave a bracket below one ulp of any grid step.
_HOPF_RTOL, _HOPF_ATOL, _HOPF_MAX_STEPS = 1e-15, 1e-14, 64


@eqx.filter_jit
def _bisect_crossing(model, lo, hi, y_lo, y_hi, index: int):
    r"""The current in [lo, hi] where $g(I) = \operatorname{Re}\lambda_{index}(J(y^*(I), I))$
    (eigenvalues by decreasing real part) changes sign, by `optimistix.Bisection`. $y^*(I)$
    is re-solved by Newton at each evaluation from the secant predictor between the fixed
    points at lo and hi (natural continuation within one grid step)."""

    def predictor(i):
        return y_lo + (i - lo) / (hi - lo) * (y_hi - y_lo)

    def growth(i, _):
        y, _ = solve_fixed_point(model, i, predictor(i))
        return jnp.real(eigenvalues(model, y, i))[index]

    # Oriented to rise from lo to hi, so `flip=False`: Bisection then needs no bracket check
    # (an eigenvalue within round-off of the axis at a grid current still gives an answer).
    orientation = jnp.where(growth(hi, None) >= growth(lo, None), 1.0, -1.0)
    sol = optx.root_find(
        lambda i, _: orientation * growth(i, None),
        optx.Bisection(rtol=_HOPF_RTOL, atol=_HOPF_ATOL, flip=False),
        0.5 * (lo + hi),
        options=dict(lower=lo, upper=hi),
        max_steps=_HOPF_MAX_STEPS,
        throw=False,
    )
    i = sol.value
    y, ok = solve_fixed_point(model, i, predictor(i))
    return i, y, eigenvalues(model, y, i), ok


@eqx.filter_jit
def _fold_newton(model, y0, i0):
    r"""Newton on the fold (saddle-node) system in $(y, I)$:
    $f(y, I) = 0,\ \det J(y, I) = 0$ — a regular root at a generic fold, so the
    convergence is quadratic (Kuznetsov 2004, *Elements of Applied Bifurcation Theory*,
    §10.2)."""

    def fold(z, _):
        y, i = z[:-1], z[-1]
        return jnp.concatenate(
            [model.vector_field(0.0, y, i), jnp.linalg.det(jacobian(model, y, i))[None]]
        )

    z0 = jnp.concatenate([y0, i0[None]])
    tol = newton_tolerance(z0.dtype)
    sol = optx.root_find(fold, optx.Newton(rtol=tol, atol=tol), z0, max_steps=64, throw=False)
    z = sol.value
    ok = (sol.result == optx.RESULTS.successful) & jnp.all(jnp.isfinite(z))
    y, i = z[:-1], z[-1]
    return i, y, eigenvalues(model, y, i), ok


def _saddle_node(model, lo, hi, a: list[FixedPoint], b: list[FixedPoint], width, found):
    """Two fixed points merge between lo and hi (2 → 0, or 2 → 1 → 0 when a grid current hits
    the fold itself): seed the fold system with the midpoint of the closest pair on the side
    that has more points, or with the single (double) root."""
    dtype = float_dtype()
    more, i_seed = (a, lo) if len(a) > len(b) else (b, hi)
    states = np.stack([p.state for p in more])
    if len(states) > 1:
        d = np.max(np.abs(np.diff(states, axis=0)) / width, axis=-1)
        j = int(np.argmin(d))
        y0 = 0.5 * (states[j] + states[j + 1])
    else:
        y0 = states[0]
    i, y, lam, ok = _fold_newton(model, jnp.asarray(y0, dtype), jnp.asarray(i_seed, dtype))
    span = hi - lo
    i, y = float(i), np.asarray(y)
    duplicate = any(
        f.kind == "saddle-node"
        and abs(f.current - i) <= 1e-8 * span
        and np.max(np.abs(f.state - y) / width) < 1e-6
        for f in found
    )
    if bool(ok) and lo - 1e-6 * span <= i <= hi + 1e-6 * span and not duplicate:
        return Bifurcation("saddle-node", i, y, np.asarray(lam))
    return None


def _hopf_points(model, lo, hi, a: list[FixedPoint], b: list[FixedPoint], width):
    """Follow each fixed point to its nearest neighbour at the next current; the unstable
    dimension changes by two while det J keeps its sign (no real eigenvalue crossed zero, so
    it was a complex pair)."""
    dtype = float_dtype()
    out = []
    for p in a if b else []:
        dist = [np.max(np.abs(q.state - p.state) / width) for q in b]
        q = b[int(np.argmin(dist))]
        det_p, det_q = np.prod(p.eigenvalues).real, np.prod(q.eigenvalues).real
        if p.n_unstable == q.n_unstable or np.sign(det_p) != np.sign(det_q):
            continue
        index = min(p.n_unstable, q.n_unstable)  # the eigenvalue (pair) that crosses
        i, y, lam, ok = _bisect_crossing(
            model,
            jnp.asarray(lo, dtype),
            jnp.asarray(hi, dtype),
            jnp.asarray(p.state, dtype),
            jnp.asarray(q.state, dtype),
            index,
        )
        if bool(ok) and abs(np.imag(np.asarray(lam)[index])) > 0:
            out.append(Bifurcation("hopf", float(i), np.asarray(y), np.asarray(lam)))
    return out


def _locate_bifurcations(model, currents, fps, bounds) -> list[Bifurcation]:
    width = bounds[:, 1] - bounds[:, 0]
    found: list[Bifurcation] = []
    for k in range(len(currents) - 1):
        lo, hi = float(currents[k]), float(currents[k + 1])
        a, b = fps[k], fps[k + 1]
        if len(a) != len(b):
            sn = _saddle_node(model, lo, hi, a, b, width, found)
            if sn is not None:
                found.append(sn)
        found.extend(_hopf_points(model, lo, hi, a, b, width))
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
       by bisection (`optimistix.Bisection`, to round-off in the current) on the real part of
       the crossing eigenvalue pair, the fixed point being re-solved by Newton at each
       evaluation. Bifurcations that happen and undo between two neighbouring currents are
       not seen: scan finely enough.
    3. With `dt` and `duration` (ms): every current is simulated from `model.initial_state()`
       (vmapped `scjax.simulate`), and the min / max of V after `transient` (default: half
       the duration) give the limit-cycle envelope of the bifurcation diagram.

    Arguments:
        model: any scjax model.
        currents: 1-D array of constant currents (increasing for a readable diagram).
        bounds, n_seeds: the fixed-point search box and seeds per axis (see `fixed_points`).
        dt, duration, transient, solver: the envelope simulation (skipped when dt is None).
    """
    check_model(model)
    currents = check_currents(currents)
    bounds = check_bounds(model, bounds)
    fps = fixed_points_at_currents(model, currents, bounds, n_seeds)
    bifurcations = _locate_bifurcations(model, currents, fps, bounds)
    v_min = v_max = None
    if dt is not None:
        if duration is None:
            raise ValueError("duration must be given with dt for the envelope simulation")
        traj, start = simulate_currents(model, currents, dt, duration, transient, solver, None)
        v = np.asarray(traj.y[:, start:, model.spike_index])
        v_min, v_max = v.min(axis=1), v.max(axis=1)
    return BifurcationScan(
        currents=currents, fixed_points=fps, bifurcations=bifurcations, v_min=v_min, v_max=v_max
    )
