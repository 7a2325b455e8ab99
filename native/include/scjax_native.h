/*
 * scjax_native.h — the one C ABI of scjax's native parity libraries.
 *
 * Three independent implementations export exactly these symbols, in this order:
 *   native/rust/src/lib.rs   -> native/build/libscjax_rust.so
 *   native/go/scjax.go       -> native/build/libscjax_go.so
 *   native/mojo/scjax.mojo   -> native/build/libscjax_mojo.so
 * and scjax/backends/native.py loads any of them through ctypes.
 *
 * They share none of the JAX path's machinery but follow its conventions exactly, so that a
 * float64 trajectory of `scjax.simulate` and of `scjax_simulate` agree to rounding:
 *
 *   - The step size is exactly `dt` (not t1 - t0); the current is piecewise constant,
 *     current[n] holding over step n (from t0 + n dt to t0 + (n+1) dt).
 *   - states[0] = y0; states[n+1] = the state after step n *and* after its reset.
 *   - spikes[n] = 1 when step n spiked:
 *       izhikevich, adex (threshold + reset): after the step, if y[0] >= v_peak then
 *         izhikevich: v = c, u = u + d;   adex: V = v_reset, w = w + b.
 *       hodgkin_huxley (no reset): an upward crossing, y_prev[0] < v_threshold <= y_next[0].
 *   - AdEx's right-hand side sees V clamped to min(V, v_peak) in both equations (NEST's
 *     convention) and clips its exponent argument (V - V_T)/Delta_T at 30.
 *   - Hodgkin-Huxley's alpha_m, alpha_n use exprel(z) = (exp(z) - 1)/z, evaluated as
 *     expm1(z)/z for |z| >= 1e-6 and as 1 + z/2 + z^2/6 below (the removable singularity).
 *   - exp and expm1 are the C library's (libm) in every implementation.
 *
 * Models (`const char *model`, NUL-terminated, exact lower-case names) and parameter order
 * (the Python model's `param_names`; units as in scjax.models):
 *   "izhikevich"     state (v, u)        params (a, b, c, d, v_peak)                      5
 *   "hodgkin_huxley" state (v, m, h, n)  params (c_m, g_na, g_k, g_l, e_na, e_k, e_l,
 *                                                v_threshold)                             8
 *   "adex"           state (v, w)        params (c, g_l, e_l, v_t, delta_t, tau_w, a, b,
 *                                                v_reset, v_peak)                         10
 *
 * Integrators (`const char *integrator`), the same for every model:
 *   "euler"       y1 = y0 + h f(y0)
 *   "half_euler"  Izhikevich (2003): y[0] += h/2 f_0(y) twice (other components frozen), then
 *                 the other components += h f(y with the updated y[0])
 *   "rk4"         the classic four-stage Runge-Kutta method
 *
 * Status codes: every function that can fail returns one of SCJAX_* below and, when it is not
 * SCJAX_OK, records a message that scjax_last_error() returns. No input makes these
 * functions crash or write outside the buffers whose sizes they were given.
 *
 * Thread safety: the integration itself keeps no state. The last-error message is per thread
 * in Rust and process-wide in Go and Mojo: a caller sharing one library between threads
 * should read scjax_last_error() under the same lock as the failing call (the Python
 * loader does).
 */
#ifndef SCJAX_NATIVE_H
#define SCJAX_NATIVE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a signature, a convention or a status code changes. */
#define SCJAX_ABI_VERSION 1

#define SCJAX_OK 0
#define SCJAX_ERR_NULL_POINTER 1      /* a required pointer argument was NULL */
#define SCJAX_ERR_UNKNOWN_MODEL 2     /* model is not one of the names above */
#define SCJAX_ERR_UNKNOWN_INTEGRATOR 3 /* integrator is not one of the names above */
#define SCJAX_ERR_PARAM_COUNT 4       /* n_params (or a buffer size) does not match the model */
#define SCJAX_ERR_INVALID_ARGUMENT 5  /* n_steps, dt, current, params or y0 out of range */

/* SCJAX_ABI_VERSION of the library (the loader refuses a library whose version differs). */
int32_t scjax_abi_version(void);

/* Number of state components of `model`, or -1 (with a message) for an unknown/NULL name. */
int64_t scjax_state_size(const char *model);

/* Number of parameters of `model`, or -1 (with a message) for an unknown/NULL name. */
int64_t scjax_param_size(const char *model);

/* Writes the model's default parameters (the Python model's field defaults) into out[0..n_out).
 * n_out must equal scjax_param_size(model). */
int32_t scjax_default_params(const char *model, double *out, int64_t n_out);

/* Writes the model's documented initial state for `params` into out[0..n_out):
 * izhikevich (-65, -65 b); hodgkin_huxley V = -65 mV with each gate at alpha/(alpha + beta);
 * adex (e_l, 0). n_params must equal scjax_param_size(model), n_out scjax_state_size(model). */
int32_t scjax_initial_state(const char *model, const double *params, int64_t n_params,
                            double *out, int64_t n_out);

/* The message of the last failed call ("" if none failed yet). The pointer stays valid until
 * the next failing call; copy it before calling again. Never NULL. */
const char *scjax_last_error(void);

/* Integrates `model` with `integrator` over n_steps steps of size dt (ms).
 *   params      n_params doubles in the model's parameter order; finite. adex also needs
 *               c, g_l, delta_t, tau_w > 0 and hodgkin_huxley c_m > 0.
 *   y0          scjax_state_size(model) finite doubles.
 *   current     n_steps finite doubles; current[n] holds over step n.
 *   n_steps     >= 1 (and small enough that the outputs' sizes fit in memory addresses).
 *   dt          positive and finite.
 *   out_states  caller-allocated (n_steps + 1) * n_state doubles, row-major:
 *               out_states[k * n_state + j] is component j after k steps.
 *   out_spikes  caller-allocated n_steps bytes, 1 where step n spiked, else 0.
 * All inputs are checked before anything is written. A state that becomes non-finite is not
 * an error: integration goes on and the caller sees the non-finite values (as
 * scjax.simulate(throw=False) does). */
int32_t scjax_simulate(const char *model, const char *integrator, const double *params,
                       int64_t n_params, const double *y0, const double *current,
                       int64_t n_steps, double dt, double *out_states, uint8_t *out_spikes);

#ifdef __cplusplus
}
#endif

#endif /* SCJAX_NATIVE_H */
