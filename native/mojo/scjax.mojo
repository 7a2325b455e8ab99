# scjax's Mojo parity library: the C ABI of native/include/scjax_native.h.
#
# An independent transcription of the fixed-step recurrences of scjax.simulate (float64),
# written from the header's conventions. Section and function order mirror
# native/rust/src/lib.rs and native/go/scjax.go, so the three read side by side.
# Every arithmetic expression keeps the operation order of scjax's Python code.
#
# Build (Mojo 1.2): mojo build --emit shared-lib -o libscjax_mojo.so scjax.mojo
#
# Pointer arguments arrive as `Int` addresses: on the C ABIs Mojo targets (x86-64 SysV,
# AArch64) a pointer and a 64-bit integer are passed identically, and an address can be
# compared with 0, which a Mojo `Pointer` (never null by construction) cannot.

from std.ffi import _Global, external_call
from std.collections import Array
from std.math import isfinite, isnan

# ---------------------------------------------------------------------------------------------
# ABI constants (scjax_native.h)

comptime ABI_VERSION: Int32 = 1
comptime OK: Int32 = 0
comptime ERR_NULL_POINTER: Int32 = 1
comptime ERR_UNKNOWN_MODEL: Int32 = 2
comptime ERR_UNKNOWN_INTEGRATOR: Int32 = 3
comptime ERR_PARAM_COUNT: Int32 = 4
comptime ERR_INVALID_ARGUMENT: Int32 = 5

# Largest n_steps accepted: keeps (n_steps + 1) * n_state * 8 bytes far inside Int64.
comptime MAX_STEPS: Int64 = 1 << 40
# Upper bound of AdEx's exponent argument (scjax.models._adex.ADEX_EXP_ARG_MAX).
comptime ADEX_EXP_ARG_MAX: Float64 = 30.0
# Below this |z|, exprel uses its Taylor polynomial (scjax.models._base.exprel).
comptime EXPREL_SMALL: Float64 = 1e-6


# Mojo's own float64 exp differs from libm's by up to ~1e-11 relative; parity with the other
# libraries (and with JAX to rounding) needs the C library's exp and expm1.
@always_inline
def c_exp(x: Float64) -> Float64:
    return external_call["exp", Float64](x)


@always_inline
def c_expm1(x: Float64) -> Float64:
    return external_call["expm1", Float64](x)


# ---------------------------------------------------------------------------------------------
# Last error (process-wide: Mojo has no global variables, so the buffer's address lives in a
# runtime-managed global slot)

comptime ERROR_CAPACITY = 512


def _new_error_buffer() -> Int:
    return external_call["calloc", Int](ERROR_CAPACITY, 1)


comptime ERROR_BUFFER = _Global["scjax_mojo_last_error", _new_error_buffer]


def _error_buffer() -> Int:
    try:
        return ERROR_BUFFER.get_or_create_ptr()[]
    except:
        return 0


def fail(status: Int32, message: String) -> Int32:
    var addr = _error_buffer()
    if addr == 0:
        return status
    var buf = Pointer[UInt8, MutAnyOrigin](unsafe_from_address=addr)
    var bytes = message.as_bytes()
    var n = 0
    for i in range(len(bytes)):
        if n >= ERROR_CAPACITY - 1:
            break
        if bytes[i] != 0:
            buf[unsafe_offset=n] = bytes[i]
            n += 1
    buf[unsafe_offset=n] = 0
    return status


# ---------------------------------------------------------------------------------------------
# Models: names, sizes, default parameters

comptime IZHIKEVICH = 0
comptime HODGKIN_HUXLEY = 1
comptime ADEX = 2
comptime UNKNOWN = -1

comptime EULER = 0
comptime HALF_EULER = 1
comptime RK4 = 2


def _c_string_equals(addr: Int, literal: StaticString) -> Bool:
    var s = Pointer[UInt8, MutAnyOrigin](unsafe_from_address=addr)
    var bytes = literal.as_bytes()
    for i in range(len(bytes)):
        if s[unsafe_offset=i] != bytes[i]:
            return False
    return s[unsafe_offset=len(bytes)] == 0


def _c_string(addr: Int) -> String:
    """The C string at addr as a String (ASCII; at most 64 bytes, for messages)."""
    var s = Pointer[UInt8, MutAnyOrigin](unsafe_from_address=addr)
    var out = String("")
    var i = 0
    while s[unsafe_offset=i] != 0 and i < 64:
        out += chr(Int(s[unsafe_offset=i]))
        i += 1
    return out


def model_from_name(addr: Int) -> Int:
    if _c_string_equals(addr, "izhikevich"):
        return IZHIKEVICH
    if _c_string_equals(addr, "hodgkin_huxley"):
        return HODGKIN_HUXLEY
    if _c_string_equals(addr, "adex"):
        return ADEX
    return UNKNOWN


def integrator_from_name(addr: Int) -> Int:
    if _c_string_equals(addr, "euler"):
        return EULER
    if _c_string_equals(addr, "half_euler"):
        return HALF_EULER
    if _c_string_equals(addr, "rk4"):
        return RK4
    return UNKNOWN


def state_size(model: Int) -> Int:
    if model == HODGKIN_HUXLEY:
        return 4
    return 2


def param_size(model: Int) -> Int:
    if model == IZHIKEVICH:
        return 5
    if model == HODGKIN_HUXLEY:
        return 8
    return 10


def default_param(model: Int, i: Int) -> Float64:
    if model == IZHIKEVICH:
        var d: Array[Float64, 5] = [0.02, 0.2, -65.0, 8.0, 30.0]
        return d[i]
    if model == HODGKIN_HUXLEY:
        var d: Array[Float64, 8] = [1.0, 120.0, 36.0, 0.3, 50.0, -77.0, -54.387, 0.0]
        return d[i]
    var d: Array[Float64, 10] = [281.0, 30.0, -70.6, -50.4, 2.0, 144.0, 4.0, 80.5, -70.6, 20.0]
    return d[i]


def param_name(model: Int, i: Int) -> String:
    if model == IZHIKEVICH:
        var names: Array[StaticString, 5] = ["a", "b", "c", "d", "v_peak"]
        return String(names[i])
    if model == HODGKIN_HUXLEY:
        var names: Array[StaticString, 8] = [
            "c_m", "g_na", "g_k", "g_l", "e_na", "e_k", "e_l", "v_threshold"
        ]
        return String(names[i])
    var names: Array[StaticString, 10] = [
        "c", "g_l", "e_l", "v_t", "delta_t", "tau_w", "a", "b", "v_reset", "v_peak"
    ]
    return String(names[i])


# ---------------------------------------------------------------------------------------------
# Right-hand sides f(y, I) (scjax.models.*.vector_field)

comptime State = SIMD[DType.float64, 4]
comptime Params = Pointer[Float64, MutAnyOrigin]


def minimum(a: Float64, b: Float64) -> Float64:
    """As jnp.minimum: NaN propagates, so a diverged run stays NaN as in JAX."""
    if isnan(a) or isnan(b):
        return a + b
    if a < b:
        return a
    return b


def exprel(z: Float64) -> Float64:
    if abs(z) < EXPREL_SMALL:
        return 1.0 + z / 2.0 + z * z / 6.0
    return c_expm1(z) / z


def izhikevich_rhs(p: Params, y: State, current: Float64) -> State:
    var a = p[unsafe_offset=0]
    var b = p[unsafe_offset=1]
    var v = y[0]
    var u = y[1]
    var dv = 0.04 * v * v + 5.0 * v + 140.0 - u + current
    var du = a * (b * v - u)
    return State(dv, du, 0.0, 0.0)


def hodgkin_huxley_rhs(p: Params, y: State, current: Float64) -> State:
    var c_m = p[unsafe_offset=0]
    var g_na = p[unsafe_offset=1]
    var g_k = p[unsafe_offset=2]
    var g_l = p[unsafe_offset=3]
    var e_na = p[unsafe_offset=4]
    var e_k = p[unsafe_offset=5]
    var e_l = p[unsafe_offset=6]
    var v = y[0]
    var m = y[1]
    var h = y[2]
    var n = y[3]
    var i_na = g_na * m * m * m * h * (v - e_na)
    var i_k = g_k * (n * n) * (n * n) * (v - e_k)
    var i_l = g_l * (v - e_l)
    var dv = (current - i_na - i_k - i_l) / c_m
    var alpha_m = 1.0 / exprel(-(v + 40.0) / 10.0)
    var beta_m = 4.0 * c_exp(-(v + 65.0) / 18.0)
    var alpha_h = 0.07 * c_exp(-(v + 65.0) / 20.0)
    var beta_h = 1.0 / (1.0 + c_exp(-(v + 35.0) / 10.0))
    var alpha_n = 0.1 / exprel(-(v + 55.0) / 10.0)
    var beta_n = 0.125 * c_exp(-(v + 65.0) / 80.0)
    var dm = alpha_m * (1.0 - m) - beta_m * m
    var dh = alpha_h * (1.0 - h) - beta_h * h
    var dn = alpha_n * (1.0 - n) - beta_n * n
    return State(dv, dm, dh, dn)


def adex_rhs(p: Params, y: State, current: Float64) -> State:
    var c = p[unsafe_offset=0]
    var g_l = p[unsafe_offset=1]
    var e_l = p[unsafe_offset=2]
    var v_t = p[unsafe_offset=3]
    var delta_t = p[unsafe_offset=4]
    var tau_w = p[unsafe_offset=5]
    var a = p[unsafe_offset=6]
    var v_peak = p[unsafe_offset=9]
    # NEST's convention: the right-hand side sees V clamped at V_peak.
    var v = minimum(y[0], v_peak)
    var w = y[1]
    var arg = minimum((v - v_t) / delta_t, ADEX_EXP_ARG_MAX)
    var dv = (-g_l * (v - e_l) + g_l * delta_t * c_exp(arg) - w + current) / c
    var dw = (a * (v - e_l) - w) / tau_w
    return State(dv, dw, 0.0, 0.0)


def rhs(model: Int, p: Params, y: State, current: Float64) -> State:
    if model == IZHIKEVICH:
        return izhikevich_rhs(p, y, current)
    if model == HODGKIN_HUXLEY:
        return hodgkin_huxley_rhs(p, y, current)
    return adex_rhs(p, y, current)


# ---------------------------------------------------------------------------------------------
# One step of each integrator (scjax.solvers); unused lanes of State stay 0

def euler_step(model: Int, p: Params, y0: State, current: Float64, h: Float64) -> State:
    return y0 + h * rhs(model, p, y0, current)


def half_euler_step(model: Int, p: Params, y0: State, current: Float64, h: Float64) -> State:
    # Component 0 (the membrane potential) is the fast one for every model.
    var half = 0.5 * h
    var y = y0
    y[0] = y0[0] + half * rhs(model, p, y0, current)[0]
    y[0] = y[0] + half * rhs(model, p, y, current)[0]
    var f = rhs(model, p, y, current)
    var fast = y[0]
    y = y0 + h * f
    y[0] = fast
    return y


def rk4_step(model: Int, p: Params, y0: State, current: Float64, h: Float64) -> State:
    var half = 0.5 * h
    var k1 = rhs(model, p, y0, current)
    var k2 = rhs(model, p, y0 + half * k1, current)
    var k3 = rhs(model, p, y0 + half * k2, current)
    var k4 = rhs(model, p, y0 + h * k3, current)
    var sixth = h / 6.0
    return y0 + sixth * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


# ---------------------------------------------------------------------------------------------
# Spike rule (scjax.models._base): threshold + reset, or upward crossing

def spike_and_reset(model: Int, p: Params, y_prev: State, mut y_next: State) -> Bool:
    if model == IZHIKEVICH:
        var spike = y_next[0] - p[unsafe_offset=4] >= 0.0
        if spike:
            y_next[0] = p[unsafe_offset=2]
            y_next[1] = y_next[1] + p[unsafe_offset=3]
        return spike
    if model == HODGKIN_HUXLEY:
        var threshold = p[unsafe_offset=7]
        return y_prev[0] < threshold and y_next[0] >= threshold
    var spike = y_next[0] - p[unsafe_offset=9] >= 0.0
    if spike:
        y_next[0] = p[unsafe_offset=8]
        y_next[1] = y_next[1] + p[unsafe_offset=7]
    return spike


# ---------------------------------------------------------------------------------------------
# Argument checks (each returns OK or the status of the failure it recorded)

def check_model(func: String, addr: Int, mut model: Int) -> Int32:
    if addr == 0:
        return fail(ERR_NULL_POINTER, func + ": model is NULL")
    model = model_from_name(addr)
    if model == UNKNOWN:
        return fail(
            ERR_UNKNOWN_MODEL,
            func + ": unknown model '" + _c_string(addr)
            + "' (expected izhikevich, hodgkin_huxley or adex)",
        )
    return OK


def _is_positive_param(model: Int, i: Int) -> Bool:
    if model == HODGKIN_HUXLEY:
        return i == 0
    if model == ADEX:
        return i == 0 or i == 1 or i == 4 or i == 5
    return False


def check_params(func: String, model: Int, p: Params) -> Int32:
    for i in range(param_size(model)):
        var x = p[unsafe_offset=i]
        if not isfinite(x):
            return fail(
                ERR_INVALID_ARGUMENT,
                func + ": params[" + String(i) + "] (" + param_name(model, i)
                + ") must be finite, got " + String(x),
            )
    for i in range(param_size(model)):
        var x = p[unsafe_offset=i]
        if _is_positive_param(model, i) and not (x > 0.0):
            return fail(
                ERR_INVALID_ARGUMENT,
                func + ": params[" + String(i) + "] (" + param_name(model, i)
                + ") must be positive, got " + String(x),
            )
    return OK


# ---------------------------------------------------------------------------------------------
# Exported functions, in the header's order

@export
def scjax_abi_version() abi("C") -> Int32:
    return ABI_VERSION


@export
def scjax_state_size(model_addr: Int) abi("C") -> Int64:
    var model = UNKNOWN
    if check_model("scjax_state_size", model_addr, model) != OK:
        return -1
    return Int64(state_size(model))


@export
def scjax_param_size(model_addr: Int) abi("C") -> Int64:
    var model = UNKNOWN
    if check_model("scjax_param_size", model_addr, model) != OK:
        return -1
    return Int64(param_size(model))


@export
def scjax_default_params(model_addr: Int, out_addr: Int, n_out: Int64) abi("C") -> Int32:
    comptime F = "scjax_default_params"
    var model = UNKNOWN
    var status = check_model(F, model_addr, model)
    if status != OK:
        return status
    if out_addr == 0:
        return fail(ERR_NULL_POINTER, String(F) + ": out is NULL")
    if n_out != Int64(param_size(model)):
        return fail(
            ERR_PARAM_COUNT,
            String(F) + ": n_out must be " + String(param_size(model)) + ", got " + String(n_out),
        )
    var out = Pointer[Float64, MutAnyOrigin](unsafe_from_address=out_addr)
    for i in range(param_size(model)):
        out[unsafe_offset=i] = default_param(model, i)
    return OK


@export
def scjax_initial_state(
    model_addr: Int, params_addr: Int, n_params: Int64, out_addr: Int, n_out: Int64
) abi("C") -> Int32:
    comptime F = "scjax_initial_state"
    var model = UNKNOWN
    var status = check_model(F, model_addr, model)
    if status != OK:
        return status
    if params_addr == 0:
        return fail(ERR_NULL_POINTER, String(F) + ": params is NULL")
    if out_addr == 0:
        return fail(ERR_NULL_POINTER, String(F) + ": out is NULL")
    if n_params != Int64(param_size(model)):
        return fail(
            ERR_PARAM_COUNT,
            String(F) + ": n_params must be " + String(param_size(model)) + ", got "
            + String(n_params),
        )
    if n_out != Int64(state_size(model)):
        return fail(
            ERR_PARAM_COUNT,
            String(F) + ": n_out must be " + String(state_size(model)) + ", got " + String(n_out),
        )
    var p = Params(unsafe_from_address=params_addr)
    status = check_params(F, model, p)
    if status != OK:
        return status
    var out = Pointer[Float64, MutAnyOrigin](unsafe_from_address=out_addr)
    if model == IZHIKEVICH:
        out[unsafe_offset=0] = -65.0
        out[unsafe_offset=1] = p[unsafe_offset=1] * -65.0
    elif model == HODGKIN_HUXLEY:
        var v: Float64 = -65.0
        var a_m = 1.0 / exprel(-(v + 40.0) / 10.0)
        var b_m = 4.0 * c_exp(-(v + 65.0) / 18.0)
        var a_h = 0.07 * c_exp(-(v + 65.0) / 20.0)
        var b_h = 1.0 / (1.0 + c_exp(-(v + 35.0) / 10.0))
        var a_n = 0.1 / exprel(-(v + 55.0) / 10.0)
        var b_n = 0.125 * c_exp(-(v + 65.0) / 80.0)
        out[unsafe_offset=0] = v
        out[unsafe_offset=1] = a_m / (a_m + b_m)
        out[unsafe_offset=2] = a_h / (a_h + b_h)
        out[unsafe_offset=3] = a_n / (a_n + b_n)
    else:
        out[unsafe_offset=0] = p[unsafe_offset=2]
        out[unsafe_offset=1] = 0.0
    return OK


@export
def scjax_last_error() abi("C") -> Int:
    var addr = _error_buffer()
    if addr == 0:
        # No buffer could be made: hand out a static empty string rather than NULL.
        return Int(StaticString("").unsafe_ptr())
    return addr


@export
def scjax_simulate(
    model_addr: Int,
    integrator_addr: Int,
    params_addr: Int,
    n_params: Int64,
    y0_addr: Int,
    current_addr: Int,
    n_steps: Int64,
    dt: Float64,
    out_states_addr: Int,
    out_spikes_addr: Int,
) abi("C") -> Int32:
    comptime F = "scjax_simulate"
    # 1. pointers, in argument order
    var addrs: Array[Int, 7] = [
        model_addr, integrator_addr, params_addr, y0_addr, current_addr, out_states_addr,
        out_spikes_addr,
    ]
    var names: Array[StaticString, 7] = [
        "model", "integrator", "params", "y0", "current", "out_states", "out_spikes"
    ]
    for i in range(7):
        if addrs[i] == 0:
            return fail(ERR_NULL_POINTER, String(F) + ": " + String(names[i]) + " is NULL")
    # 2. names
    var model = UNKNOWN
    var status = check_model(F, model_addr, model)
    if status != OK:
        return status
    var integrator = integrator_from_name(integrator_addr)
    if integrator == UNKNOWN:
        return fail(
            ERR_UNKNOWN_INTEGRATOR,
            String(F) + ": unknown integrator '" + _c_string(integrator_addr)
            + "' (expected euler, half_euler or rk4)",
        )
    # 3. parameters and initial state
    var n = state_size(model)
    if n_params != Int64(param_size(model)):
        return fail(
            ERR_PARAM_COUNT,
            String(F) + ": n_params must be " + String(param_size(model))
            + " for this model, got " + String(n_params),
        )
    var p = Params(unsafe_from_address=params_addr)
    status = check_params(F, model, p)
    if status != OK:
        return status
    var init = Pointer[Float64, MutAnyOrigin](unsafe_from_address=y0_addr)
    for i in range(n):
        if not isfinite(init[unsafe_offset=i]):
            return fail(
                ERR_INVALID_ARGUMENT,
                String(F) + ": y0[" + String(i) + "] must be finite, got "
                + String(init[unsafe_offset=i]),
            )
    # 4. steps, dt, current
    if n_steps < 1 or n_steps > MAX_STEPS:
        return fail(
            ERR_INVALID_ARGUMENT,
            String(F) + ": n_steps must be in [1, 2^40], got " + String(n_steps),
        )
    if not (isfinite(dt) and dt > 0.0):
        return fail(
            ERR_INVALID_ARGUMENT, String(F) + ": dt must be positive and finite, got " + String(dt)
        )
    var steps = Int(n_steps)
    var cur = Pointer[Float64, MutAnyOrigin](unsafe_from_address=current_addr)
    for k in range(steps):
        if not isfinite(cur[unsafe_offset=k]):
            return fail(
                ERR_INVALID_ARGUMENT,
                String(F) + ": current[" + String(k) + "] must be finite, got "
                + String(cur[unsafe_offset=k]),
            )
    # 5. integrate
    var states = Pointer[Float64, MutAnyOrigin](unsafe_from_address=out_states_addr)
    var spikes = Pointer[UInt8, MutAnyOrigin](unsafe_from_address=out_spikes_addr)
    var y = State(0.0)
    for i in range(n):
        y[i] = init[unsafe_offset=i]
        states[unsafe_offset=i] = y[i]
    for k in range(steps):
        var y_next: State
        if integrator == EULER:
            y_next = euler_step(model, p, y, cur[unsafe_offset=k], dt)
        elif integrator == HALF_EULER:
            y_next = half_euler_step(model, p, y, cur[unsafe_offset=k], dt)
        else:
            y_next = rk4_step(model, p, y, cur[unsafe_offset=k], dt)
        if spike_and_reset(model, p, y, y_next):
            spikes[unsafe_offset=k] = 1
        else:
            spikes[unsafe_offset=k] = 0
        y = y_next
        for i in range(n):
            states[unsafe_offset=(k + 1) * n + i] = y[i]
    return OK
