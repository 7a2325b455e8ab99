"""Gaussian elimination with partial pivoting, written out on scalars.

A Rosenbrock step solves (I/(γh) − J) u = r with the n × n matrix of one neuron, n = 2 … 4.
`jax.scipy.linalg.lu_factor` does it with LAPACK's `getrf` (cuSOLVER on a GPU): vmapped over
a batch, that is one small factorisation per neuron and step, outside the step's fusions,
and a primitive (`lu`) that no Pallas kernel can contain. Here the same algorithm — LAPACK's
unblocked `getf2`: at column k, the row with the largest |a_ik| (i ≥ k, the first one on a
tie) is swapped into row k, the multipliers l_ik = a_ik / a_kk are stored below the diagonal
and the trailing rows updated a_ij ← a_ij − l_ik·a_kj — is unrolled over the n² entries held
as separate scalars, the row swaps done with selects. Every operation is elementwise, so
vmapped over a batch each entry is one `[B]` vector and the factorisation is part of the
step's fused arithmetic (and of a Pallas kernel's).

The results agree with LAPACK's to rounding, not bit for bit (LAPACK scales by a reciprocal
of the pivot, and its blocked and recursive variants order the updates differently), so it
is opt-in: `AbstractRosenbrockSolver(linear_solve="elimination")`.
"""

import jax.numpy as jnp

from .._custom_types import Scalar

#: Factors of `factor`: the rows of L (strictly below the diagonal, unit diagonal implied)
#: and U (on and above it) in one n × n table, and the pivot row chosen at each column.
Factors = tuple[list[list[Scalar]], list[Scalar]]


def factor(matrix: list[list[Scalar]]) -> Factors:
    """P·A = L·U of the n × n matrix `matrix` (rows of scalars, or of equally shaped arrays
    for a batch), with partial pivoting; as `jax.scipy.linalg.lu_factor`'s (lu, piv) with
    the pivots as traced integers."""
    a = [list(row) for row in matrix]
    n = len(a)
    pivots = []
    for k in range(n):
        pivot = jnp.zeros(jnp.shape(a[k][k]), jnp.int32) + k
        largest = jnp.abs(a[k][k])
        for i in range(k + 1, n):
            larger = jnp.abs(a[i][k]) > largest
            pivot = jnp.where(larger, i, pivot)
            largest = jnp.where(larger, jnp.abs(a[i][k]), largest)
        a = _swap_rows(a, k, pivot)
        pivots.append(pivot)
        for i in range(k + 1, n):
            a[i][k] = a[i][k] / a[k][k]
            for j in range(k + 1, n):
                a[i][j] = a[i][j] - a[i][k] * a[k][j]
    return a, pivots


def solve(factors: Factors, rhs: list[Scalar]) -> list[Scalar]:
    """x with A·x = `rhs` from `factor(A)`: the row swaps, then L·z = P·rhs forwards and
    U·x = z backwards (as `jax.scipy.linalg.lu_solve`)."""
    a, pivots = factors
    n = len(a)
    x = [[value] for value in rhs]
    for k, pivot in enumerate(pivots):
        x = _swap_rows(x, k, pivot)
    x = [row[0] for row in x]
    for i in range(n):
        for j in range(i):
            x[i] = x[i] - a[i][j] * x[j]
    for i in reversed(range(n)):
        for j in range(i + 1, n):
            x[i] = x[i] - a[i][j] * x[j]
        x[i] = x[i] / a[i][i]
    return x


def _swap_rows(rows: list[list[Scalar]], k: int, pivot) -> list[list[Scalar]]:
    """`rows` with row k and row `pivot` (≥ k, traced) exchanged, by selects."""
    swapped = [list(row) for row in rows]
    for i in range(k + 1, len(rows)):
        chosen = pivot == i
        for j in range(len(rows[k])):
            swapped[k][j] = jnp.where(chosen, rows[i][j], swapped[k][j])
            swapped[i][j] = jnp.where(chosen, rows[k][j], rows[i][j])
    return swapped
