"""How the Pallas kernel evaluates a step's float32 `exp`, `expm1` and division
(`PallasLoop(math=)`).

`"libdevice"` (the default, the historical results): as JAX's Triton lowering does, exp by
libdevice's range-reduced `__nv_expf` (≈ 9 instructions), expm1 by `__nv_expm1f` (≈ 11
more than the fast form below) and division by `div.full.f32` (≈ 8, with its range
checks). Hodgkin–Huxley's RK4 step does 16 exps, 8 expm1s and ≈ 24 divisions, 40 % of its
770 instructions per neuron-step on an H200 (experiments/gpu/offline_triton.py).

`"fast"`: what CUDA's `--use_fast_math` does to `expf` and `/`, opt-in —

    exp(x)  → exp2(x · log₂e)         compiled: `ex2.approx.ftz.f32` (CUDA's `__expf`,
                                       at most 2 + ⌊1.173·|x|⌋ ulp)
    x / c   → x · (1/c)                c a constant of the step: its reciprocal rounded
                                       once (≤ 1.5 ulp)
    x / y   → x · rcp(y)               compiled: `div.approx.ftz.f32` (CUDA's `__fdividef`,
                                       ≤ 2 ulp for |y| in [2⁻¹²⁶, 2¹²⁶]; 0 above)
    x⁻ᵏ     → 1 / xᵏ                   the division above (a derivative's 1/y²)

(error bounds: CUDA C Programming Guide, "Intrinsic Functions"), and one that CUDA's flag
leaves alone, libdevice's `__nv_expm1f` (the exprel of HH's α_m and α_n: 8 per RK4 step) —

    expm1(x) → x·Σ_{k<8} xᵏ/(k+1)!    for |x| < 1/2: Horner, 8 multiply-adds; truncation
                                       |x|⁸/9! < 1.1e-8 relative, so a few ulp in all
             → exp(x) − 1              elsewhere, exp as above: its ulp of eˣ scaled by
                                       eˣ/|eˣ − 1| ≤ 2.55 (at x = 1/2), plus the rounding
                                       of the subtraction

The series is what keeps the relative accuracy near 0, where eˣ − 1 cancels (α_m's
removable singularity at V = −40 mV is crossed on every upstroke). Subnormal results flush
to zero. Float64 arithmetic and everything else are unchanged. In interpret mode (the CPU)
the same formulas run as XLA operations, `exp2` and the reciprocal correctly rounded, so CPU
tests measure the error of the reformulation, not of the GPU's approximate instructions
(those are bounded above).
"""

import math

import jax
import jax.core  # explicit: a type checker does not see the submodule through `jax`
import jax.numpy as jnp
import numpy as np
from jax.experimental.pallas import triton as plgpu

from ._substitution import substituted

#: The accepted values of `PallasLoop(math=)`.
KERNEL_MATH = ("libdevice", "fast")

_LOG2_E = np.float32(np.log2(np.e))

#: Where fast expm1 sums its series instead of subtracting 1 from exp.
_EXPM1_SERIES_BELOW = np.float32(0.5)
#: 1/(k+1)! for k = 7 … 0, the series' coefficients in Horner order.
_EXPM1_SERIES = tuple(np.float32(1.0 / math.factorial(k + 1)) for k in range(7, -1, -1))


def check_kernel_math(math) -> None:
    """`ValueError` unless `math` names one of `KERNEL_MATH`."""
    if not isinstance(math, str) or math not in KERNEL_MATH:
        raise ValueError(f"PallasLoop math must be one of {KERNEL_MATH}, got {math!r}")


def with_kernel_math(step, math: str, *, interpret: bool):
    """`step` itself for `math="libdevice"`; for `"fast"`, `step` with its float32 `exp`,
    `expm1`, division and negative integer powers replaced as the module says (inline PTX when
    compiled, XLA operations when `interpret`)."""
    check_kernel_math(math)
    if math == "libdevice":
        return step
    rules = {
        "exp": lambda eqn, inputs: _fast_exp(eqn, *inputs, interpret=interpret),
        "expm1": lambda eqn, inputs: _fast_expm1(eqn, *inputs, interpret=interpret),
        "div": lambda eqn, inputs: _fast_div(eqn, *inputs, interpret=interpret),
        "integer_pow": lambda eqn, inputs: _fast_inverse_power(eqn, *inputs, interpret=interpret),
    }
    return substituted(step, rules)


def _is_float32(eqn) -> bool:
    return eqn.outvars[0].aval.dtype == jnp.float32


def _fast_exp(eqn, x, *, interpret: bool):
    if not _is_float32(eqn):
        return None
    return [_exp2_of_product(eqn, x, interpret=interpret)]


def _exp2_of_product(eqn, x, *, interpret: bool):
    """exp2(x·log₂e), the product rounded to float32: `ex2.approx` when compiled."""
    scaled = x * _LOG2_E
    if interpret or not isinstance(scaled, jax.core.Tracer):  # a constant: folded
        return jnp.exp2(scaled)
    return _ptx(eqn, "ex2.approx.ftz.f32 $0, $1;", scaled)


def _fast_expm1(eqn, x, *, interpret: bool):
    if not _is_float32(eqn):
        return None
    series = _EXPM1_SERIES[0]
    for coefficient in _EXPM1_SERIES[1:]:
        series = series * x + coefficient
    exp = _exp2_of_product(eqn, x, interpret=interpret)
    return [jnp.where(jnp.abs(x) < _EXPM1_SERIES_BELOW, series * x, exp - np.float32(1.0))]


def _fast_div(eqn, x, y, *, interpret: bool):
    if not _is_float32(eqn):
        return None
    if not isinstance(y, jax.core.Tracer):  # a constant of the step: 1/c once, now
        return [x * (1.0 / np.asarray(y, np.float64)).astype(np.float32)]
    if interpret:
        return [x * (np.float32(1.0) / y)]
    if eqn.outvars[0].aval.shape == () and not isinstance(x, jax.core.Tracer):
        # A scalar with a constant numerator (1/(γh) of a shared dt, once per step):
        # Triton's inline PTX cannot take the literal as an operand; the default stays.
        return None
    return [_ptx(eqn, "div.approx.ftz.f32 $0, $1, $2;", x, y)]


def _fast_inverse_power(eqn, x, *, interpret: bool):
    """x⁻ᵏ (a derivative's 1/y² of a division, in a Rosenbrock Jacobian or a Newton slope):
    1 / xᵏ, the division of `_fast_div` (Triton would divide in full)."""
    k = eqn.params["y"]
    if not _is_float32(eqn) or k >= 0 or eqn.outvars[0].aval.shape == ():
        return None
    power = jax.lax.integer_pow(x, -k)
    if interpret:
        return [np.float32(1.0) / power]
    return [_ptx(eqn, "div.approx.ftz.f32 $0, $1, $2;", np.float32(1.0), power)]


def _ptx(eqn, asm: str, *args) -> jax.Array:
    """The result of `eqn` (float32) computed by one PTX instruction per element."""
    shape = eqn.outvars[0].aval.shape
    args = [jnp.broadcast_to(jnp.asarray(a, jnp.float32), shape) for a in args]
    constraints = ",".join(["=f"] + ["f"] * len(args))
    result_shape = jax.ShapeDtypeStruct(shape, jnp.float32)
    (result,) = plgpu.elementwise_inline_asm(
        asm, args=args, constraints=constraints, pack=1, result_shape_dtypes=[result_shape]
    )
    return result
