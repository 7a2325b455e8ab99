"""Rodas5P: a stiffly accurate, L-stable fifth-order Rosenbrock method with an adaptive step."""

from typing import ClassVar

import numpy as np

from ._base import AbstractRosenbrockSolver
from ._rosenbrock_tableau import RosenbrockTableau

#: The name this type had when only Rodas5P used it.
RodasTableau = RosenbrockTableau


def _rodas5p_tableau() -> RosenbrockTableau:
    """Rodas5P (Steinebach 2023, "Construction of Rosenbrock–Wanner method Rodas5P and
    numerical benchmarks within the Julia differential equations package", BIT 63:27).
    Coefficients as in OrdinaryDiffEq.jl's `Rodas5PTableau`."""
    s = 8
    a = np.zeros((s, s))
    a[1, 0] = 3.0
    a[2, :2] = [2.849394379747939, 0.45842242204463923]
    a[3, :3] = [-6.954028509809101, 2.489845061869568, -10.358996098473584]
    a[4, :4] = [2.8029986275628964, 0.5072464736228206, -0.3988312541770524, -0.04721187230404641]
    a[5, :5] = [
        -7.502846399306121,
        2.561846144803919,
        -11.627539656261098,
        -0.18268767659942256,
        0.030198172008377946,
    ]
    # Stages 7 and 8 are evaluated at y₆' = (stage-6 argument) + u₆, then + u₇.
    a[6, :5] = a[5, :5]
    a[6, 5] = 1.0
    a[7, :6] = a[6, :6]
    a[7, 6] = 1.0
    cm = np.zeros((s, s))
    cm[1, 0] = -14.155112264123755
    cm[2, :2] = [-17.97296035885952, -2.859693295451294]
    cm[3, :3] = [147.12150275711716, -1.41221402718213, 71.68940251302358]
    cm[4, :4] = [165.43517024871676, -0.4592823456491126, 42.90938336958603, -5.961986721573306]
    cm[5, :5] = [
        24.854864614690072,
        -3.0009227002832186,
        47.4931110020768,
        5.5814197821558125,
        -0.6610691825249471,
    ]
    cm[6, :6] = [
        30.91273214028599,
        -3.1208243349937974,
        77.79954646070892,
        34.28646028294783,
        -19.097331116725623,
        -28.087943162872662,
    ]
    cm[7, :7] = [
        37.80277123390563,
        -3.2571969029072276,
        112.26918849496327,
        66.9347231244047,
        -40.06618937091002,
        -54.66780262877968,
        -9.48861652309627,
    ]
    c = np.array(
        [
            0.0,
            0.6358126895828704,
            0.4095798393397535,
            0.9769306725060716,
            0.4288403609558664,
            1.0,
            1.0,
            1.0,
        ]
    )
    gamma = 0.21193756319429014
    d = np.array(
        [
            gamma,
            -0.42387512638858027,
            -0.3384627126235924,
            1.8046452872882734,
            2.325825639765069,
            0.0,
            0.0,
            0.0,
        ]
    )
    # Stiffly accurate: y₁ = Y₈ + u₈, and the embedded solution is Y₈ (error u₈).
    b_sol = a[7].copy()
    b_sol[7] = 1.0
    b_error = np.zeros(s)
    b_error[7] = 1.0
    return RosenbrockTableau(
        gamma=gamma,
        a=a,
        c_mat=cm,
        c=c,
        d=d,
        b_sol=b_sol,
        b_error=b_error,
        order=5,
        embedded_order=4,
    )


RODAS5P_TABLEAU: RosenbrockTableau = _rodas5p_tableau()


class Rodas5P(AbstractRosenbrockSolver):
    """Rodas5P (Steinebach 2023, BIT Numer. Math. 63:27), the default stiff solver of
    DifferentialEquations.jl: a Rosenbrock–Wanner method of order 5 with an embedded
    order-4 solution, 8 stages (8 evaluations of f, one Jacobian by `jax.jacfwd`, one ∂f/∂t,
    one LU factorisation of I/(γh) − J per step), stiffly accurate and L-stable
    (γ = 0.2119). Being linearly implicit it needs no Newton iteration.

    Runs adaptively in `diffrax.diffeqsolve` with a `diffrax.PIDController` (error estimate:
    the last stage increment); dense output between steps is linear (`LocalLinearInterpolation`,
    as for every scjax Rosenbrock method), so use `SaveAt(ts=...)` only where that suffices or
    constrain steps onto the save times (`ClipStepSizeController(step_ts=...)`).
    Tested (`tests/test_rodas.py`): empirical order 5 (log-log slope with constant steps on
    a smooth non-autonomous problem), adaptive Van der Pol μ = 1000 against a stored SciPy
    Radau solution (rtol 1e-12), and the upstroke limit.
    """

    #: Largest γ·dt·(upstroke rate) `scjax.simulate` accepts on an explosive upstroke, when
    #: Rodas5P runs as a fixed-step method. Measured on Izhikevich RS (I = 10, 200 ms,
    #: 5 spikes with RK4 at dt = 0.002): every γ·dt·rate from 0.30 to 0.40 (steps of 0.01)
    #: gives the 5 spikes, 0.41–0.43 give 4, 0.44 gives 3; AdEx (v_peak = V_T + 5Δ_T) holds
    #: to 0.6. Hence 0.4 (tests/test_rodas.py checks both sides).
    upstroke_limit: ClassVar[float] = 0.4
    tableau: ClassVar[RosenbrockTableau] = RODAS5P_TABLEAU

    def error_order(self, terms):
        return 4
