"""One tableau type, one generic Rosenbrock step: the tableaux satisfy exactly their claimed
order conditions, a broken tableau is refused, and the generic step reproduces the three
hand-written steps it replaced (transcribed below from scjax 87390c8)."""

import dataclasses
import functools

import diffrax
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
import pytest

import scjax
from scjax.solvers import (
    RODAS5P_TABLEAU,
    Rodas5P,
    Rosenbrock2,
    RosenbrockEuler,
    RosenbrockTableau,
)
from scjax.solvers._base import linearise

ROS2_GAMMA = scjax.solvers.ROS2_GAMMA


# --- the previous hand-written steps (removed from scjax/solvers), for comparison ------------
# Each returns (y₁, y_error, size of its stage increments h·|kᵢ| or None).


def _old_rosenbrock_euler(terms, t0, t1, y0, args):
    h = terms.contr(t0, t1)
    f0, jac, f_t = linearise(terms, t0, y0, args)
    w = jnp.eye(y0.shape[-1], dtype=jac.dtype) - h * jac
    k = jnp.linalg.solve(w, f0 + h * f_t)
    return y0 + h * k, h * (k - f0), h * jnp.maximum(jnp.abs(k), jnp.abs(f0))


def _old_rosenbrock2(terms, t0, t1, y0, args):
    h = terms.contr(t0, t1)
    f0, jac, f_t = linearise(terms, t0, y0, args)
    gh = ROS2_GAMMA * h
    w = jnp.eye(y0.shape[-1], dtype=jac.dtype) - gh * jac
    lu = jsl.lu_factor(w)
    k1 = jsl.lu_solve(lu, f0 + gh * f_t)
    f1 = terms.vf(t0 + h, y0 + h * k1, args)
    k2 = jsl.lu_solve(lu, f1 - 2.0 * k1 - gh * f_t)
    stage_size = h * jnp.maximum(jnp.abs(k1), jnp.abs(k2))
    return y0 + h * (1.5 * k1 + 0.5 * k2), h * (0.5 * k1 + 0.5 * k2), stage_size


def _old_rodas5p(terms, t0, t1, y0, args):
    tab = RODAS5P_TABLEAU
    h = terms.contr(t0, t1)
    f0, jac, f_t = linearise(terms, t0, y0, args)
    w = jnp.eye(y0.shape[-1], dtype=jac.dtype) / (tab.gamma * h) - jac
    lu = jsl.lu_factor(w)
    us = []
    for i in range(tab.c.shape[0]):
        if i == 0:
            f_i = f0
        else:
            arg = y0 + sum(tab.a[i, j] * us[j] for j in range(i) if tab.a[i, j] != 0.0)
            f_i = terms.vf(t0 + tab.c[i] * h, arg, args)
        rhs = f_i + sum((tab.c_mat[i, j] / h) * us[j] for j in range(i))
        if tab.d[i] != 0.0:
            rhs = rhs + (tab.d[i] * h) * f_t
        us.append(jsl.lu_solve(lu, rhs))
    s = len(us)
    y_emb = y0 + sum(tab.a[s - 1, j] * us[j] for j in range(s - 1) if tab.a[s - 1, j] != 0.0)
    return y_emb + us[-1], us[-1], None


# --- tableau validation ------------------------------------------------------------------------

TABLEAUX = [RosenbrockEuler.tableau, Rosenbrock2.tableau, RODAS5P_TABLEAU]
IDS = ["rosenbrock_euler", "ros2", "rodas5p"]


@pytest.mark.parametrize("tab", TABLEAUX, ids=IDS)
def test_claimed_orders_are_exact(tab):
    # The claims hold (construction succeeded); one order more must fail for both the
    # method and its embedded solution, so the check has teeth at every order used.
    with pytest.raises(ValueError, match="order"):
        dataclasses.replace(tab, order=tab.order + 1)
    with pytest.raises(ValueError, match="embedded_order"):
        dataclasses.replace(tab, embedded_order=tab.embedded_order + 1)


def test_broken_tableaux_are_refused():
    tab = RODAS5P_TABLEAU
    a = tab.a.copy()
    a[3, 1] += 1e-6  # one coefficient off in the 7th digit
    with pytest.raises(ValueError):
        dataclasses.replace(tab, a=a)
    with pytest.raises(ValueError, match="strictly lower triangular"):
        dataclasses.replace(tab, c_mat=tab.c_mat + np.eye(8))
    with pytest.raises(ValueError, match="gamma"):
        dataclasses.replace(tab, gamma=-tab.gamma)
    with pytest.raises(ValueError, match="one entry per stage"):
        dataclasses.replace(tab, d=tab.d[:-1])
    c = tab.c.copy()
    c[2] += 0.01  # stage time inconsistent with the stage argument
    with pytest.raises(ValueError, match="inconsistent"):
        dataclasses.replace(tab, c=c)
    ros2 = Rosenbrock2.tableau
    with pytest.raises(ValueError, match="inconsistent"):  # d must equal the rows of Γ
        dataclasses.replace(ros2, d=np.array([ROS2_GAMMA, 0.0]))
    with pytest.raises(ValueError, match="no error estimate"):
        dataclasses.replace(ros2, b_error=np.zeros(2))


def test_rodas_tableau_alias_and_gamma():
    assert scjax.solvers.RodasTableau is RosenbrockTableau
    assert Rodas5P.gamma == Rodas5P().gamma == RODAS5P_TABLEAU.gamma
    assert Rosenbrock2.gamma == ROS2_GAMMA and RosenbrockEuler.gamma == 1.0
    assert RODAS5P_TABLEAU.stiffly_accurate and not Rosenbrock2.tableau.stiffly_accurate


# --- the generic step against the hand-written ones ---------------------------------------------


CASES = {  # model, amplitude, dt of the states' trajectory, dt of the compared step
    "hh": (scjax.HodgkinHuxley(), 10.0, 0.01, 0.02),
    "izhikevich": (scjax.Izhikevich(), 10.0, 0.05, 0.02),
}
METHODS = {
    "rosenbrock_euler": (RosenbrockEuler, _old_rosenbrock_euler),
    "ros2": (Rosenbrock2, _old_rosenbrock2),
    "rodas5p": (Rodas5P, _old_rodas5p),
}


@functools.cache
def _states(case: str, n: int = 40) -> jax.Array:
    """n states along a spiking trajectory (RK4), so upstroke, peak and recovery are covered."""
    model, amplitude, traj_dt, _ = CASES[case]
    tr = scjax.simulate(model, jnp.full(4000, amplitude), traj_dt, solver=scjax.solvers.RK4())
    y = np.asarray(tr.y)
    return jnp.asarray(y[:: len(y) // n][:n])


def _ulps(new, old):
    """|new − old| in units of the last place of old (entrywise maximum)."""
    return float(np.max(np.abs(new - old) / np.spacing(np.abs(old))))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", CASES)
def test_generic_step_reproduces_hand_written_steps(case, method):
    model, amplitude, _, dt = CASES[case]
    cls, old = METHODS[method]
    states = _states(case)
    # A time-dependent current, so the ∂f/∂t weights d are exercised too.
    term = diffrax.ODETerm(lambda t, y, a: model.vector_field(t, y, a * (1.0 + 0.5 * jnp.sin(t))))
    t0, t1 = 3.0, 3.0 + dt
    new_step = jax.jit(jax.vmap(lambda y: cls().step(term, t0, t1, y, amplitude, None, False)[:2]))
    old_step = jax.jit(jax.vmap(lambda y: old(term, t0, t1, y, amplitude)))
    y1, err = map(np.asarray, new_step(states))
    y1_old, err_old, stage_size = old_step(states)
    y1_old, err_old = np.asarray(y1_old), np.asarray(err_old)
    if cls is Rodas5P:  # Same tableau, same operation order: bit for bit.
        np.testing.assert_array_equal(y1, y1_old)
        np.testing.assert_array_equal(err, err_old)
        return
    # Euler and ROS2 now factorise I/(γh) − J instead of I − γhJ and carry uᵢ = γhkᵢ:
    # a different rounding of the same numbers. y₁ within 4 ulp (measured: ≤ 1);
    # the error estimate, a difference of stage increments, within 4 ulp of their size
    # (measured: ≤ 3.7; relative to the estimate itself that is up to ~5000 ulp).
    assert _ulps(y1, y1_old) <= 4, _ulps(y1, y1_old)
    err_ulps = np.max(np.abs(err - err_old) / np.spacing(np.asarray(stage_size)))
    assert err_ulps <= 4, err_ulps


@pytest.mark.parametrize("method", METHODS)
def test_float32_state_stays_float32(method):
    # Coefficients enter weakly typed (Rodas5P's NumPy float64 coefficients used to promote
    # a float32 state to float64 under x64).
    cls, _ = METHODS[method]
    model = scjax.HodgkinHuxley()
    y0 = model.initial_state().astype(jnp.float32)
    one = jnp.float32(1.0)
    y1, err = cls().step(model.term(), 0.0 * one, 0.01 * one, y0, 10.0 * one, None, False)[:2]
    assert y1.dtype == err.dtype == jnp.float32
    y1_64 = cls().step(model.term(), 0.0, 0.01, model.initial_state(), 10.0, None, False)[0]
    np.testing.assert_allclose(np.asarray(y1), np.asarray(y1_64), rtol=1e-5, atol=1e-6)
