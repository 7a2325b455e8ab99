"""`PallasLoop(math="fast")` (scjax.simulation._kernel_math) side by side with the default.

The option replaces the kernel's float32 `exp` by exp2(x·log₂e), its `expm1` by a series
near 0 and that exp − 1 elsewhere, and its divisions by a multiplication with a
reciprocal. Checked here: the formulas themselves against NumPy, that
float64 runs are bitwise unchanged, that a float32 Hodgkin–Huxley batch is as close to the
float64 solution with the option as without it (same spike counts, errors of one size), and
that the program lowered for a GPU really uses the approximate PTX instructions (lowered on
the CPU, nothing runs).
"""

import pathlib
import re
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax.simulation import PallasLoop
from scjax.simulation._kernel_math import with_kernel_math

ROOT = pathlib.Path(__file__).resolve().parents[1]
N, T, DT = 64, 3000, 0.01


def test_the_formulas_against_numpy():
    x = np.linspace(-20.0, 5.0, 101, dtype=np.float32)
    y = np.linspace(0.5, 40.0, 101, dtype=np.float32)

    def f(x, y):
        return jnp.exp(x), x / y, x / 18.0, jnp.exp(x.astype(jnp.float64))

    exp, quotient, by_constant, exp64 = with_kernel_math(f, "fast", interpret=True)(x, y)
    np.testing.assert_array_equal(quotient, x * (np.float32(1.0) / y))
    np.testing.assert_array_equal(by_constant, x * np.float32(1.0 / 18.0))
    np.testing.assert_array_equal(exp64, jnp.exp(x.astype(jnp.float64)))  # float64: untouched
    # exp2 of the rounded product x·log₂e: within CUDA's bound for __expf, 2 + 1.173·|x|
    # ulp, here as on a GPU (XLA's CPU exp2 is not correctly rounded either).
    exact = np.exp(x.astype(np.float64))
    ulps = np.abs(exp - exact) / np.spacing(exact.astype(np.float32)).astype(np.float64)
    assert np.all(ulps <= 2 + 1.173 * np.abs(x)), ulps.max()
    assert not np.array_equal(exp, np.exp(x))  # it does round differently


def test_expm1_keeps_its_relative_accuracy_near_zero():
    # |x| < 1/2: the series; elsewhere exp(x) − 1 with the exp above. A grid of [-1/2, 1/2)
    # in steps of 2⁻¹², ±10⁻ᵏ down to the smallest normals (where exp(x) − 1 alone would
    # return 0 or a wrong leading digit), and [-20, 20].
    tiny = np.float32(10.0) ** -np.arange(1, 38, dtype=np.float32)
    x = np.concatenate(
        [np.arange(-2048, 2048, dtype=np.float32) / 4096, tiny, -tiny, np.linspace(-20, 20, 4001)]
    ).astype(np.float32)
    (fast,) = with_kernel_math(lambda x: (jnp.expm1(x),), "fast", interpret=True)(x)
    exact = np.expm1(x.astype(np.float64))
    error = np.abs(np.asarray(fast, np.float64) - exact)
    series = np.abs(x) < 0.5
    # The series: a few roundings (measured: 1.4 ulp at most).
    ulps = error / np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert ulps[series].max() <= 2.0, ulps[series].max()
    # Elsewhere: exp's error (CUDA's bound for __expf, 2 + 1.173·|x| ulp of eˣ; XLA's CPU
    # exp2 of the rounded product stays within it up to |x| ≈ 22) carried through the
    # subtraction, plus its rounding.
    e = np.exp(x.astype(np.float64))
    allowed = (2 + 1.173 * np.abs(x)) * np.spacing(e.astype(np.float32)) + np.spacing(
        np.abs(exact).astype(np.float32)
    ) / 2
    assert np.all(error[~series] <= allowed[~series]), (error / allowed)[~series].max()


def _hh(dtype, loop):
    model = scjax.HodgkinHuxley(integrator="rk4", g_na=jnp.linspace(108.0, 132.0, N, dtype=dtype))
    stimulus = scjax.stimulus.Constant(jnp.linspace(4.0, 16.0, N, dtype=dtype))
    return scjax.simulate_batch(
        model, stimulus, DT, n_steps=T, spikes="count", save_every=T // 10, loop=loop
    )


def test_float32_hodgkin_huxley_is_as_close_to_float64_as_the_default():
    reference = _hh(jnp.float64, "xla")
    default = _hh(jnp.float32, PallasLoop(block_size=32, interpret=True))
    fast = _hh(jnp.float32, PallasLoop(block_size=32, interpret=True, math="fast"))
    assert len(set(np.asarray(reference.spike_count).tolist())) == 3  # 1, 2 and 3 spikes
    np.testing.assert_array_equal(fast.spike_count, reference.spike_count)
    np.testing.assert_array_equal(default.spike_count, reference.spike_count)
    v_ref = np.asarray(reference.y[..., 0])
    errors = {
        name: np.abs(np.asarray(run.y[..., 0], np.float64) - v_ref)
        for name, run in (("default", default), ("fast", fast))
    }
    # Measured: mean 1.7e-4 / 1.8e-4 mV, max 0.009 / 0.013 mV (the largest on an upstroke).
    assert errors["fast"].mean() <= 1.5 * errors["default"].mean()
    assert errors["fast"].max() < 0.05
    assert not np.array_equal(fast.y, default.y)


def test_float64_runs_are_bitwise_unchanged():
    default = _hh(jnp.float64, PallasLoop(block_size=32, interpret=True))
    fast = _hh(jnp.float64, PallasLoop(block_size=32, interpret=True, math="fast"))
    np.testing.assert_array_equal(fast.y, default.y)
    np.testing.assert_array_equal(fast.spike_count, default.spike_count)


def test_unknown_math_is_refused():
    with pytest.raises(ValueError, match="loop.math must be one of"):
        _hh(jnp.float32, PallasLoop(block_size=32, math="approximate"))


_LOWER_FOR_A_GPU = """
import os, re, sys, collections
os.environ["EQX_ON_ERROR"] = "nan"  # error_if's callback lowers for the host platform only
sys.path.insert(0, "experiments/gpu")
import jax, jax.numpy as jnp, scjax
from offline_triton import triton_modules
from scjax.simulation import PallasLoop
g_na = jnp.linspace(108.0, 132.0, 64, dtype=jnp.float32)
model = scjax.HodgkinHuxley(integrator="rk4", g_na=g_na)
stimulus = scjax.stimulus.Constant(jnp.linspace(4.0, 16.0, 64, dtype=jnp.float32))
for math in ("libdevice", "fast"):
    loop = PallasLoop(block_size=32, interpret=False, math=math)
    run = jax.jit(lambda m, s: scjax.simulate_batch(
        m, s, 0.01, n_steps=10, spikes="count", save_every=10, throw=False, loop=loop).spike_count)
    ((_, text, _),) = triton_modules(run.trace(model, stimulus).lower(lowering_platforms=("cuda",)))
    pattern = r"__nv_exp(?:m1)?f|arith\\.divf|ex2\\.approx\\.ftz\\.f32|div\\.approx\\.ftz\\.f32"
    print(math, dict(collections.Counter(re.findall(pattern, text))))
# A Rosenbrock step (1/(γh): a constant numerator) and in-step events (Newton's divisions).
rosenbrock = scjax.solvers.RosenbrockEuler(linear_solve="elimination")
cases = (("rosenbrock", rosenbrock, "end_of_step"), ("in_step", None, "in_step"))
for name, solver, events in cases:
    loop = PallasLoop(block_size=32, interpret=False, math="fast")
    run = jax.jit(lambda m, s: scjax.simulate_batch(
        m, s, 0.01, n_steps=10, spikes="count", save_every=10, throw=False, loop=loop,
        solver=solver, events=events).spike_count)
    ((_, text, _),) = triton_modules(run.trace(model, stimulus).lower(lowering_platforms=("cuda",)))
    print(name, dict(collections.Counter(re.findall(pattern, text))))
"""


def test_lowered_for_a_gpu_the_kernel_uses_the_approximate_instructions():
    # A fresh process: EQX_ON_ERROR is read when equinox is imported.
    done = subprocess.run(
        [sys.executable, "-c", _LOWER_FOR_A_GPU],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    found = dict(re.findall(r"^(\w+) (\{.*\})$", done.stdout, re.M))
    default, fast = eval(found["libdevice"]), eval(found["fast"])  # noqa: S307 (our own dicts)
    # Per RK4 step: 4 exps and 2 expm1s (α_m, α_n) in each of 4 stages; every division a
    # full-range one.
    assert default == {"arith.divf": default["arith.divf"], "__nv_expf": 16, "__nv_expm1f": 8}
    assert default["arith.divf"] > 24
    # Fast: the 16 exps and 8 expm1s one ex2.approx each (the expm1s' series beside it), the
    # 24 divisions by a variable div.approx, the divisions by constants multiplications, and
    # no full-range division or libdevice function left.
    assert fast == {"ex2.approx.ftz.f32": 24, "div.approx.ftz.f32": 24}
    # A Rosenbrock step (its scalar 1/(γh), a literal numerator, keeps one full division)
    # and in-step events (Newton's divisions) lower with the approximate instructions too.
    rosenbrock, in_step = eval(found["rosenbrock"]), eval(found["in_step"])  # noqa: S307
    assert rosenbrock["div.approx.ftz.f32"] > 24 and rosenbrock["ex2.approx.ftz.f32"] > 16
    assert in_step["div.approx.ftz.f32"] > 24 and in_step["ex2.approx.ftz.f32"] > 16
    for name in ("__nv_expf", "__nv_expm1f"):
        assert name not in rosenbrock and name not in in_step
    # Derivatives' x⁻² too (integer_pow): no full division is left but the scalar one.
    assert rosenbrock.get("arith.divf") == 1 and "arith.divf" not in in_step
