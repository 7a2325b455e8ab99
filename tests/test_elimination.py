"""scjax.solvers._elimination: partial-pivoting elimination on scalars, against LAPACK."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from scjax.solvers import _elimination


def _solve(matrix, rhs):
    n = len(rhs)
    factors = _elimination.factor([[matrix[i, j] for j in range(n)] for i in range(n)])
    return jnp.stack(_elimination.solve(factors, [rhs[i] for i in range(n)]))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6])
def test_solves_random_systems_as_lapack(n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        matrix, rhs = rng.normal(size=(n, n)), rng.normal(size=n)
        expected = np.linalg.solve(matrix, rhs)
        got = np.asarray(_solve(jnp.asarray(matrix), jnp.asarray(rhs)))
        scale = np.linalg.cond(matrix) * np.abs(expected).max()
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-14 * scale)


def test_pivots_rows_as_lapack_getrf():
    # A zero leading entry needs the swap; the pivot rows and the factors are LAPACK's.
    matrix = np.array([[0.0, 2.0, 1.0], [1.0, -1.0, 3.0], [4.0, 0.5, -2.0]])
    lu, piv = scipy.linalg.lu_factor(matrix)
    rows, pivots = _elimination.factor([[jnp.float64(x) for x in row] for row in matrix])
    np.testing.assert_array_equal([int(p) for p in pivots], piv)
    np.testing.assert_allclose(np.array([[float(x) for x in row] for row in rows]), lu, rtol=1e-15)
    # A tie takes the first row, as LAPACK's idamax.
    tie = np.array([[1.0, 2.0], [-1.0, 5.0]])
    _, pivots = _elimination.factor([[jnp.float64(x) for x in row] for row in tie])
    assert [int(p) for p in pivots] == list(scipy.linalg.lu_factor(tie)[1]) == [0, 1]


def test_vmapped_over_a_batch_each_entry_a_vector():
    # A batch of systems: every entry one [B] vector, the pivots chosen per system.
    rng = np.random.default_rng(0)
    matrices, rhs = rng.normal(size=(64, 4, 4)), rng.normal(size=(64, 4))
    got = jax.vmap(_solve)(jnp.asarray(matrices), jnp.asarray(rhs))
    expected = np.linalg.solve(matrices, rhs[..., None])[..., 0]
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-10, atol=1e-12)
    text = str(jax.make_jaxpr(jax.vmap(_solve))(jnp.asarray(matrices), jnp.asarray(rhs)))
    assert "lu" not in text.split() and "triangular_solve" not in text


def test_a_singular_system_gives_non_finite_values_not_an_error():
    # As LAPACK's getrs after a zero pivot: inf/NaN, which the loop's guard turns into a
    # flagged divergence.
    got = _solve(jnp.array([[1.0, 2.0], [2.0, 4.0]]), jnp.array([1.0, 1.0]))
    assert not np.all(np.isfinite(np.asarray(got)))
