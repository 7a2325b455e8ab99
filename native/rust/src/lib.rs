//! scjax's Rust parity library: the C ABI of `native/include/scjax_native.h`.
//!
//! An independent transcription of the fixed-step recurrences of `scjax.simulate` (float64),
//! written from the header's conventions. Section and function order mirror
//! `native/go/scjax.go` and `native/mojo/scjax.mojo`, so the three read side by side.
//! Every arithmetic expression keeps the operation order of scjax's Python code, and exp /
//! expm1 are libm's: trajectories then agree with JAX to rounding.

use std::cell::RefCell;
use std::ffi::{CStr, c_char};

// ---------------------------------------------------------------------------------------------
// ABI constants (scjax_native.h)

const ABI_VERSION: i32 = 1;
const OK: i32 = 0;
const ERR_NULL_POINTER: i32 = 1;
const ERR_UNKNOWN_MODEL: i32 = 2;
const ERR_UNKNOWN_INTEGRATOR: i32 = 3;
const ERR_PARAM_COUNT: i32 = 4;
const ERR_INVALID_ARGUMENT: i32 = 5;

/// Largest n_steps accepted: keeps (n_steps + 1) * n_state * 8 bytes far inside i64/usize.
const MAX_STEPS: i64 = 1 << 40;
/// Largest state size of any model (hodgkin_huxley): fixed-size stack arrays hold a state.
const MAX_STATE: usize = 4;
/// Upper bound of AdEx's exponent argument (scjax.models._adex.ADEX_EXP_ARG_MAX).
const ADEX_EXP_ARG_MAX: f64 = 30.0;
/// Below this |z|, exprel uses its Taylor polynomial (scjax.models._base.exprel).
const EXPREL_SMALL: f64 = 1e-6;

unsafe extern "C" {
    // libm's, on purpose: the other two libraries call the same functions.
    fn exp(x: f64) -> f64;
    fn expm1(x: f64) -> f64;
}

#[inline]
fn c_exp(x: f64) -> f64 {
    unsafe { exp(x) }
}

#[inline]
fn c_expm1(x: f64) -> f64 {
    unsafe { expm1(x) }
}

// ---------------------------------------------------------------------------------------------
// Last error (per thread)

thread_local! {
    static LAST_ERROR: RefCell<Vec<u8>> = RefCell::new(vec![0u8]);
}

fn fail(status: i32, message: String) -> i32 {
    LAST_ERROR.with(|cell| {
        let mut bytes: Vec<u8> = message
            .into_bytes()
            .into_iter()
            .filter(|&b| b != 0)
            .collect();
        bytes.push(0);
        *cell.borrow_mut() = bytes;
    });
    status
}

// ---------------------------------------------------------------------------------------------
// Models: names, sizes, default parameters

#[derive(Clone, Copy, PartialEq)]
enum Model {
    Izhikevich,
    HodgkinHuxley,
    AdEx,
}

#[derive(Clone, Copy, PartialEq)]
enum Integrator {
    Euler,
    HalfEuler,
    Rk4,
}

const IZHIKEVICH_DEFAULTS: [f64; 5] = [0.02, 0.2, -65.0, 8.0, 30.0];
const HODGKIN_HUXLEY_DEFAULTS: [f64; 8] = [1.0, 120.0, 36.0, 0.3, 50.0, -77.0, -54.387, 0.0];
const ADEX_DEFAULTS: [f64; 10] = [
    281.0, 30.0, -70.6, -50.4, 2.0, 144.0, 4.0, 80.5, -70.6, 20.0,
];

fn model_from_name(name: &[u8]) -> Option<Model> {
    match name {
        b"izhikevich" => Some(Model::Izhikevich),
        b"hodgkin_huxley" => Some(Model::HodgkinHuxley),
        b"adex" => Some(Model::AdEx),
        _ => None,
    }
}

fn integrator_from_name(name: &[u8]) -> Option<Integrator> {
    match name {
        b"euler" => Some(Integrator::Euler),
        b"half_euler" => Some(Integrator::HalfEuler),
        b"rk4" => Some(Integrator::Rk4),
        _ => None,
    }
}

fn state_size(model: Model) -> usize {
    match model {
        Model::Izhikevich => 2,
        Model::HodgkinHuxley => 4,
        Model::AdEx => 2,
    }
}

fn default_params(model: Model) -> &'static [f64] {
    match model {
        Model::Izhikevich => &IZHIKEVICH_DEFAULTS,
        Model::HodgkinHuxley => &HODGKIN_HUXLEY_DEFAULTS,
        Model::AdEx => &ADEX_DEFAULTS,
    }
}

fn param_size(model: Model) -> usize {
    default_params(model).len()
}

// ---------------------------------------------------------------------------------------------
// Right-hand sides f(y, I) (scjax.models.*.vector_field)

type State = [f64; MAX_STATE];

/// jnp.minimum: NaN propagates (f64::min would drop it), so a diverged run stays NaN as in JAX.
fn minimum(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a < b {
        a
    } else {
        b
    }
}

fn exprel(z: f64) -> f64 {
    if z.abs() < EXPREL_SMALL {
        1.0 + z / 2.0 + z * z / 6.0
    } else {
        c_expm1(z) / z
    }
}

fn izhikevich_rhs(p: &[f64], y: &State, current: f64) -> State {
    let (a, b) = (p[0], p[1]);
    let (v, u) = (y[0], y[1]);
    let dv = 0.04 * v * v + 5.0 * v + 140.0 - u + current;
    let du = a * (b * v - u);
    [dv, du, 0.0, 0.0]
}

fn hodgkin_huxley_rhs(p: &[f64], y: &State, current: f64) -> State {
    let (c_m, g_na, g_k, g_l, e_na, e_k, e_l) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
    let (v, m, h, n) = (y[0], y[1], y[2], y[3]);
    let i_na = g_na * m * m * m * h * (v - e_na);
    let i_k = g_k * (n * n) * (n * n) * (v - e_k);
    let i_l = g_l * (v - e_l);
    let dv = (current - i_na - i_k - i_l) / c_m;
    let alpha_m = 1.0 / exprel(-(v + 40.0) / 10.0);
    let beta_m = 4.0 * c_exp(-(v + 65.0) / 18.0);
    let alpha_h = 0.07 * c_exp(-(v + 65.0) / 20.0);
    let beta_h = 1.0 / (1.0 + c_exp(-(v + 35.0) / 10.0));
    let alpha_n = 0.1 / exprel(-(v + 55.0) / 10.0);
    let beta_n = 0.125 * c_exp(-(v + 65.0) / 80.0);
    let dm = alpha_m * (1.0 - m) - beta_m * m;
    let dh = alpha_h * (1.0 - h) - beta_h * h;
    let dn = alpha_n * (1.0 - n) - beta_n * n;
    [dv, dm, dh, dn]
}

fn adex_rhs(p: &[f64], y: &State, current: f64) -> State {
    let (c, g_l, e_l, v_t, delta_t, tau_w, a) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
    let v_peak = p[9];
    // NEST's convention: the right-hand side sees V clamped at V_peak.
    let v = minimum(y[0], v_peak);
    let w = y[1];
    let arg = minimum((v - v_t) / delta_t, ADEX_EXP_ARG_MAX);
    let dv = (-g_l * (v - e_l) + g_l * delta_t * c_exp(arg) - w + current) / c;
    let dw = (a * (v - e_l) - w) / tau_w;
    [dv, dw, 0.0, 0.0]
}

fn rhs(model: Model, p: &[f64], y: &State, current: f64) -> State {
    match model {
        Model::Izhikevich => izhikevich_rhs(p, y, current),
        Model::HodgkinHuxley => hodgkin_huxley_rhs(p, y, current),
        Model::AdEx => adex_rhs(p, y, current),
    }
}

// ---------------------------------------------------------------------------------------------
// One step of each integrator (scjax.solvers)

fn euler_step(model: Model, p: &[f64], y0: &State, current: f64, h: f64, n: usize) -> State {
    let f = rhs(model, p, y0, current);
    let mut y1 = *y0;
    for i in 0..n {
        y1[i] = y0[i] + h * f[i];
    }
    y1
}

fn half_euler_step(model: Model, p: &[f64], y0: &State, current: f64, h: f64, n: usize) -> State {
    // Component 0 (the membrane potential) is the fast one for every model.
    let half = 0.5 * h;
    let mut y = *y0;
    y[0] = y0[0] + half * rhs(model, p, y0, current)[0];
    y[0] = y[0] + half * rhs(model, p, &y, current)[0];
    let f = rhs(model, p, &y, current);
    for i in 1..n {
        y[i] = y0[i] + h * f[i];
    }
    y
}

fn rk4_step(model: Model, p: &[f64], y0: &State, current: f64, h: f64, n: usize) -> State {
    let half = 0.5 * h;
    let mut stage = *y0;
    let k1 = rhs(model, p, y0, current);
    for i in 0..n {
        stage[i] = y0[i] + half * k1[i];
    }
    let k2 = rhs(model, p, &stage, current);
    for i in 0..n {
        stage[i] = y0[i] + half * k2[i];
    }
    let k3 = rhs(model, p, &stage, current);
    for i in 0..n {
        stage[i] = y0[i] + h * k3[i];
    }
    let k4 = rhs(model, p, &stage, current);
    let sixth = h / 6.0;
    let mut y1 = *y0;
    for i in 0..n {
        y1[i] = y0[i] + sixth * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    }
    y1
}

// ---------------------------------------------------------------------------------------------
// Spike rule (scjax.models._base): threshold + reset, or upward crossing

fn spike_and_reset(model: Model, p: &[f64], y_prev: &State, y_next: &mut State) -> bool {
    match model {
        Model::Izhikevich => {
            let spike = y_next[0] - p[4] >= 0.0;
            if spike {
                y_next[0] = p[2];
                y_next[1] = y_next[1] + p[3];
            }
            spike
        }
        Model::HodgkinHuxley => y_prev[0] < p[7] && y_next[0] >= p[7],
        Model::AdEx => {
            let spike = y_next[0] - p[9] >= 0.0;
            if spike {
                y_next[0] = p[8];
                y_next[1] = y_next[1] + p[7];
            }
            spike
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Argument checks

/// The bytes of a NUL-terminated name, or None for NULL.
unsafe fn name_bytes<'a>(name: *const c_char) -> Option<&'a [u8]> {
    if name.is_null() {
        None
    } else {
        Some(unsafe { CStr::from_ptr(name) }.to_bytes())
    }
}

unsafe fn check_model(func: &str, name: *const c_char) -> Result<Model, i32> {
    match unsafe { name_bytes(name) } {
        None => Err(fail(ERR_NULL_POINTER, format!("{func}: model is NULL"))),
        Some(bytes) => model_from_name(bytes).ok_or_else(|| {
            fail(
                ERR_UNKNOWN_MODEL,
                format!(
                    "{func}: unknown model '{}' (expected izhikevich, hodgkin_huxley or adex)",
                    String::from_utf8_lossy(bytes)
                ),
            )
        }),
    }
}

fn check_params(func: &str, model: Model, p: &[f64]) -> Result<(), i32> {
    let names: &[&str] = match model {
        Model::Izhikevich => &["a", "b", "c", "d", "v_peak"],
        Model::HodgkinHuxley => &[
            "c_m",
            "g_na",
            "g_k",
            "g_l",
            "e_na",
            "e_k",
            "e_l",
            "v_threshold",
        ],
        Model::AdEx => &[
            "c", "g_l", "e_l", "v_t", "delta_t", "tau_w", "a", "b", "v_reset", "v_peak",
        ],
    };
    for (i, &x) in p.iter().enumerate() {
        if !x.is_finite() {
            return Err(fail(
                ERR_INVALID_ARGUMENT,
                format!("{func}: params[{i}] ({}) must be finite, got {x}", names[i]),
            ));
        }
    }
    let positive: &[usize] = match model {
        Model::Izhikevich => &[],
        Model::HodgkinHuxley => &[0],
        Model::AdEx => &[0, 1, 4, 5],
    };
    for &i in positive {
        if !(p[i] > 0.0) {
            return Err(fail(
                ERR_INVALID_ARGUMENT,
                format!(
                    "{func}: params[{i}] ({}) must be positive, got {}",
                    names[i], p[i]
                ),
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Exported functions, in the header's order

#[unsafe(no_mangle)]
pub extern "C" fn scjax_abi_version() -> i32 {
    ABI_VERSION
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn scjax_state_size(model: *const c_char) -> i64 {
    match unsafe { check_model("scjax_state_size", model) } {
        Ok(m) => state_size(m) as i64,
        Err(_) => -1,
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn scjax_param_size(model: *const c_char) -> i64 {
    match unsafe { check_model("scjax_param_size", model) } {
        Ok(m) => param_size(m) as i64,
        Err(_) => -1,
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn scjax_default_params(
    model: *const c_char,
    out: *mut f64,
    n_out: i64,
) -> i32 {
    const F: &str = "scjax_default_params";
    let m = match unsafe { check_model(F, model) } {
        Ok(m) => m,
        Err(status) => return status,
    };
    if out.is_null() {
        return fail(ERR_NULL_POINTER, format!("{F}: out is NULL"));
    }
    let defaults = default_params(m);
    if n_out != defaults.len() as i64 {
        return fail(
            ERR_PARAM_COUNT,
            format!("{F}: n_out must be {}, got {n_out}", defaults.len()),
        );
    }
    let out = unsafe { std::slice::from_raw_parts_mut(out, defaults.len()) };
    out.copy_from_slice(defaults);
    OK
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn scjax_initial_state(
    model: *const c_char,
    params: *const f64,
    n_params: i64,
    out: *mut f64,
    n_out: i64,
) -> i32 {
    const F: &str = "scjax_initial_state";
    let m = match unsafe { check_model(F, model) } {
        Ok(m) => m,
        Err(status) => return status,
    };
    if params.is_null() {
        return fail(ERR_NULL_POINTER, format!("{F}: params is NULL"));
    }
    if out.is_null() {
        return fail(ERR_NULL_POINTER, format!("{F}: out is NULL"));
    }
    if n_params != param_size(m) as i64 {
        return fail(
            ERR_PARAM_COUNT,
            format!("{F}: n_params must be {}, got {n_params}", param_size(m)),
        );
    }
    if n_out != state_size(m) as i64 {
        return fail(
            ERR_PARAM_COUNT,
            format!("{F}: n_out must be {}, got {n_out}", state_size(m)),
        );
    }
    let p = unsafe { std::slice::from_raw_parts(params, param_size(m)) };
    if let Err(status) = check_params(F, m, p) {
        return status;
    }
    let out = unsafe { std::slice::from_raw_parts_mut(out, state_size(m)) };
    match m {
        Model::Izhikevich => {
            out[0] = -65.0;
            out[1] = p[1] * -65.0;
        }
        Model::HodgkinHuxley => {
            let v: f64 = -65.0;
            let gate = |a: f64, b: f64| a / (a + b);
            out[0] = v;
            out[1] = gate(
                1.0 / exprel(-(v + 40.0) / 10.0),
                4.0 * c_exp(-(v + 65.0) / 18.0),
            );
            out[2] = gate(
                0.07 * c_exp(-(v + 65.0) / 20.0),
                1.0 / (1.0 + c_exp(-(v + 35.0) / 10.0)),
            );
            out[3] = gate(
                0.1 / exprel(-(v + 55.0) / 10.0),
                0.125 * c_exp(-(v + 65.0) / 80.0),
            );
        }
        Model::AdEx => {
            out[0] = p[2];
            out[1] = 0.0;
        }
    }
    OK
}

#[unsafe(no_mangle)]
pub extern "C" fn scjax_last_error() -> *const c_char {
    LAST_ERROR.with(|cell| cell.borrow().as_ptr() as *const c_char)
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn scjax_simulate(
    model: *const c_char,
    integrator: *const c_char,
    params: *const f64,
    n_params: i64,
    y0: *const f64,
    current: *const f64,
    n_steps: i64,
    dt: f64,
    out_states: *mut f64,
    out_spikes: *mut u8,
) -> i32 {
    const F: &str = "scjax_simulate";
    // 1. pointers, in argument order
    let pointers: [(bool, &str); 7] = [
        (model.is_null(), "model"),
        (integrator.is_null(), "integrator"),
        (params.is_null(), "params"),
        (y0.is_null(), "y0"),
        (current.is_null(), "current"),
        (out_states.is_null(), "out_states"),
        (out_spikes.is_null(), "out_spikes"),
    ];
    for (is_null, name) in pointers {
        if is_null {
            return fail(ERR_NULL_POINTER, format!("{F}: {name} is NULL"));
        }
    }
    // 2. names
    let m = match unsafe { check_model(F, model) } {
        Ok(m) => m,
        Err(status) => return status,
    };
    let integrator_name = unsafe { CStr::from_ptr(integrator) }.to_bytes();
    let integ = match integrator_from_name(integrator_name) {
        Some(i) => i,
        None => {
            return fail(
                ERR_UNKNOWN_INTEGRATOR,
                format!(
                    "{F}: unknown integrator '{}' (expected euler, half_euler or rk4)",
                    String::from_utf8_lossy(integrator_name)
                ),
            );
        }
    };
    // 3. parameters and initial state
    let n_p = param_size(m);
    let n = state_size(m);
    if n_params != n_p as i64 {
        return fail(
            ERR_PARAM_COUNT,
            format!("{F}: n_params must be {n_p} for this model, got {n_params}"),
        );
    }
    let p = unsafe { std::slice::from_raw_parts(params, n_p) };
    if let Err(status) = check_params(F, m, p) {
        return status;
    }
    let y0 = unsafe { std::slice::from_raw_parts(y0, n) };
    for (i, &x) in y0.iter().enumerate() {
        if !x.is_finite() {
            return fail(
                ERR_INVALID_ARGUMENT,
                format!("{F}: y0[{i}] must be finite, got {x}"),
            );
        }
    }
    // 4. steps, dt, current
    if n_steps < 1 || n_steps > MAX_STEPS {
        return fail(
            ERR_INVALID_ARGUMENT,
            format!("{F}: n_steps must be in [1, 2^40], got {n_steps}"),
        );
    }
    if !(dt.is_finite() && dt > 0.0) {
        return fail(
            ERR_INVALID_ARGUMENT,
            format!("{F}: dt must be positive and finite, got {dt}"),
        );
    }
    let steps = n_steps as usize;
    let current = unsafe { std::slice::from_raw_parts(current, steps) };
    for (i, &x) in current.iter().enumerate() {
        if !x.is_finite() {
            return fail(
                ERR_INVALID_ARGUMENT,
                format!("{F}: current[{i}] must be finite, got {x}"),
            );
        }
    }
    // 5. integrate
    let states = unsafe { std::slice::from_raw_parts_mut(out_states, (steps + 1) * n) };
    let spikes = unsafe { std::slice::from_raw_parts_mut(out_spikes, steps) };
    let mut y: State = [0.0; MAX_STATE];
    y[..n].copy_from_slice(y0);
    states[..n].copy_from_slice(&y[..n]);
    for k in 0..steps {
        let mut y_next = match integ {
            Integrator::Euler => euler_step(m, p, &y, current[k], dt, n),
            Integrator::HalfEuler => half_euler_step(m, p, &y, current[k], dt, n),
            Integrator::Rk4 => rk4_step(m, p, &y, current[k], dt, n),
        };
        spikes[k] = spike_and_reset(m, p, &y, &mut y_next) as u8;
        y = y_next;
        states[(k + 1) * n..(k + 2) * n].copy_from_slice(&y[..n]);
    }
    OK
}
