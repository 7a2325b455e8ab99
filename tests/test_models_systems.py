"""The plain-ODE systems and the fixed-point LIF, against closed forms and textbook facts.

Fixed-step RK4 runs through `scjax.simulate` (cheap to compile); each check is an independent
truth: a closed-form solution, a conservation law, a Lyapunov function, or a second
implementation written here.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax import models as M


def _run(model, current, n, dt=0.1):
    return scjax.simulate(model, jnp.full(n, float(current)), dt)


def test_sc_equilibrium_closed_form():
    m = M.SCEquilibrium()
    tr = _run(m, 0.0, 1000)
    np.testing.assert_allclose(tr.y[:, 0], m.exact(tr.t), atol=1e-9)
    assert not bool(tr.spikes.any())


def test_stdp_closed_form_and_curve():
    m = M.STDPCurve()
    tr = _run(m, 0.0, 1000)
    np.testing.assert_allclose(tr.y, m.exact(tr.t), atol=1e-10)
    # Bi & Poo shape: potentiation for pre-before-post, depression after, decaying with |Δt|.
    w = np.asarray(m.curve(jnp.array([-30.0, -10.0, 10.0, 30.0])))
    np.testing.assert_allclose(
        w,
        [
            -0.273 * np.exp(-30 / 33.7),
            -0.273 * np.exp(-10 / 33.7),
            0.777 * np.exp(-10 / 16.8),
            0.777 * np.exp(-30 / 16.8),
        ],
    )


def test_lindblad_dephasing_trace_hermitian():
    # Pure dephasing from |+>: ρ01(t) = ½ e^{−2γt} e^{−iΔt}.
    m = M.Lindblad(omega=0.0)
    plus = 0.5 * jnp.ones((2, 2), dtype=complex)
    tr = scjax.simulate(m, jnp.zeros(2000), 0.1, y0=M.Lindblad.from_matrix(plus))
    rho = np.asarray(M.Lindblad.to_matrix(tr.y))
    t = np.asarray(tr.t)
    # RK4 at dt = 0.1 ms: relative error ≈ n·|λ·dt|⁵/120 = 2000·0.05⁵/120 ≈ 5e-6 (λ = −2γ − iΔ).
    np.testing.assert_allclose(
        rho[:, 0, 1], 0.5 * np.exp(-2 * 0.02 * t - 1j * 0.5 * t), rtol=1e-5, atol=1e-12
    )
    # Driven case: trace 1, Hermitian, positive semi-definite at every sample.
    rho = np.asarray(M.Lindblad.to_matrix(_run(M.Lindblad(), 0.0, 2000).y))
    np.testing.assert_allclose(np.trace(rho, axis1=1, axis2=2), 1.0, atol=1e-12)
    np.testing.assert_allclose(rho, np.conj(np.swapaxes(rho, 1, 2)), atol=1e-12)
    assert np.linalg.eigvalsh(rho).min() > -1e-9


def test_lindblad_vector_field_equals_matrix_form():
    # The model's field is written out in real arithmetic; here the master equation itself,
    # −i[H, ρ] + γ(σ_z ρ σ_z − ρ), in complex 2×2 matrices, at random states and drives.
    m = M.Lindblad()
    sz, sx = np.diag([1.0, -1.0]).astype(complex), np.array([[0, 1], [1, 0]], complex)
    rng = np.random.default_rng(7)
    for _ in range(4):
        y, current = rng.normal(size=8), rng.normal()
        rho = (y[:4] + 1j * y[4:]).reshape(2, 2)
        h = 0.25 * sz + 0.5 * (1.0 + current) * sx
        d = -1j * (h @ rho - rho @ h) + 0.02 * (sz @ rho @ sz - rho)
        np.testing.assert_allclose(
            m.vector_field(0.0, jnp.asarray(y), current),
            np.concatenate([d.real.ravel(), d.imag.ravel()]),
            atol=1e-14,
        )


def test_gamma_oscillation_in_gamma_band():
    tr = _run(M.GammaOscillation(), 0.0, 5000)
    e = np.asarray(tr.y[2000:, 0])
    peaks = np.nonzero((e[1:-1] > e[:-2]) & (e[1:-1] >= e[2:]))[0]
    freq = 1000.0 / (np.mean(np.diff(peaks)) * 0.1)
    assert 30.0 <= freq <= 80.0, freq
    assert e.max() - e.min() > 0.3  # a limit cycle, not a damped transient


def test_biolek_window_keeps_state_in_unit_interval():
    m = M.BiolekMemristor(v_amp=3.0)  # overdriven: the window must stop x at the bounds
    x = np.asarray(_run(m, 0.0, 4000).y[:, 0])
    assert x.min() >= -1e-9 and x.max() <= 1 + 1e-9
    assert x.max() > 0.99 and x[-1] < 0.5  # it reaches the bound and does not stick there
    # The vector field matches the paper's formula written out here.
    xv, t = 0.4, 12.0
    v = 3.0 * np.sin(2 * np.pi * 10 * t * 1e-3)
    i = v / (100 * xv + 16e3 * (1 - xv))
    expect = 1e-13 * 100 / 1e-16 * 1e-3 * i * (1 - (xv - (1.0 if i <= 0 else 0.0)) ** 2)
    np.testing.assert_allclose(m.vector_field(t, jnp.array([xv]), 0.0)[0], expect, rtol=1e-12)


def test_kuramoto_mean_field_equals_pairwise_sum_and_synchronises():
    m = M.Kuramoto()
    y = jnp.asarray(np.random.default_rng(3).uniform(0, 6, 64))
    pairwise = m.natural_frequencies() + 0.03 * jnp.mean(jnp.sin(y[None, :] - y[:, None]), axis=1)
    np.testing.assert_allclose(m.vector_field(0.0, y, 0.0), pairwise, atol=1e-14)
    tr = _run(m, 0.0, 3000)
    r = np.asarray(M.Kuramoto.order_parameter(tr.y))
    assert r[-1] > 2 * r[0] and r[-1] > 0.5  # K above critical: partial synchrony


def test_predictive_coding_energy_is_lyapunov():
    m = M.PredictiveCoding()
    tr = _run(m, 0.0, 2000)
    energy = np.asarray(jax.jit(jax.vmap(m.energy))(tr.y))  # jit: one compile, not per op
    assert np.all(np.diff(energy) <= 1e-12)
    # and the dynamics are the energy's negative gradient / τ (autodiff as second truth)
    y = tr.y[500]
    np.testing.assert_allclose(
        m.vector_field(0.0, y, 0.0), -jax.jit(jax.grad(m.energy))(y) / 10.0, atol=1e-12
    )


def test_homeostasis_integral_action_reaches_target():
    m = M.Homeostasis()
    for drive in (8.0, 12.0):
        tr = _run(m, drive, 30000)
        assert abs(float(tr.y[-1, 0]) - 10.0) < 0.05, (drive, tr.y[-1])


@pytest.mark.parametrize("current", [20.0, 25.0, 30.0])
def test_fixed_point_lif_rate_within_one_percent(current):
    # The continuous LIF's exact rate: 1 / (τ ln(RI / (RI − (V_th − V_rest)))).
    rate_ref = 1000.0 / (20.0 * np.log(current / (current - 15.0)))
    for bits in (0, 256):
        tr = scjax.simulate(M.FixedPointLIF(bitstream_bits=bits), jnp.full(20000, current), 0.1)
        st = tr.spike_times()
        rate = 1000.0 * (len(st) - 1) / (st[-1] - st[0])
        assert abs(rate / rate_ref - 1) < 0.01, (bits, rate, rate_ref)
    assert tr.y.dtype == jnp.float64 and np.all(np.asarray(tr.y) == np.round(np.asarray(tr.y)))


def test_fixed_point_lif_is_integer_arithmetic():
    m = M.FixedPointLIF()
    # One step from rest at I = 20: dq = round(256·20·k/2¹⁶) with k = round(2¹⁶·0.005) = 328.
    dq = (20 * 256 * 328 + 2**15) >> 16
    np.testing.assert_allclose(m.vector_field(0.0, m.initial_state(), 20.0)[0] * 0.1, dq, atol=1e-9)
    with pytest.raises(ValueError, match="integrator"):
        M.FixedPointLIF(integrator="rk4")
