/*
 * abi_bad_input.c — the C ABI's bad-input cases against one library, for valgrind.
 *
 *   cc -o abi_bad_input abi_bad_input.c -ldl
 *   valgrind --error-exitcode=99 ./abi_bad_input native/build/libscjax_rust.so
 *
 * dlopens the library given as argv[1] and calls every function of scjax_native.h with null
 * pointers, unknown model and integrator names, wrong parameter counts and buffer sizes,
 * non-finite values, dt = NaN, and an empty current (n_steps = 0), and checks the status code
 * each returns; then one valid run per model and integrator. Every buffer is malloc'ed at
 * exactly the size the call is told, so memcheck flags any read or write past it.
 *
 * Prints one line per case that returned the wrong code and "cases N failed M" at the end;
 * exits 0 when every code was right, 1 otherwise, 2 when the library cannot be loaded.
 * tests/test_native_valgrind.py compiles and runs it under valgrind for each built library.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "include/scjax_native.h"

typedef int32_t (*abi_version_fn)(void);
typedef int64_t (*size_fn)(const char *);
typedef int32_t (*default_params_fn)(const char *, double *, int64_t);
typedef int32_t (*initial_state_fn)(const char *, const double *, int64_t, double *, int64_t);
typedef const char *(*last_error_fn)(void);
typedef int32_t (*simulate_fn)(const char *, const char *, const double *, int64_t,
                               const double *, const double *, int64_t, double, double *,
                               uint8_t *);

static abi_version_fn abi_version;
static size_fn state_size, param_size;
static default_params_fn default_params;
static initial_state_fn initial_state;
static last_error_fn last_error;
static simulate_fn simulate;

static int n_cases, n_failed;

/* Records one case: `got` must equal `want`; when `want` reports a failure (a non-zero status,
 * or -1 from a size function) the library must also have left a message. */
static void check(const char *what, long got, long want, int failure) {
    n_cases++;
    const char *msg = last_error();
    if (got != want || msg == NULL || (failure && msg[0] == '\0')) {
        n_failed++;
        printf("FAIL %s: got %ld, want %ld (last error: %s)\n", what, got, want,
               msg ? msg : "(NULL)");
    }
}

static void expect(const char *what, long got, long want) { check(what, got, want, want != 0); }

static void expect_size(const char *what, long got, long want) {
    check(what, got, want, want == -1);
}

static double *doubles(int64_t n, double value) {
    double *a = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    for (int64_t i = 0; i < n; i++) a[i] = value;
    return a;
}

static void *symbol(void *lib, const char *name) {
    void *f = dlsym(lib, name);
    if (f == NULL) {
        fprintf(stderr, "abi_bad_input: %s: %s\n", name, dlerror());
        exit(2);
    }
    return f;
}

static void bad_simulate_inputs(void) {
    const int64_t T = 10;
    double *p = doubles(5, 0.0);
    p[0] = 0.02; p[1] = 0.2; p[2] = -65.0; p[3] = 8.0; p[4] = 30.0;
    double *p4 = doubles(4, 0.0); /* a buffer as short as the count it is passed with */
    memcpy(p4, p, 4 * sizeof(double));
    double *y0 = doubles(2, -65.0);
    y0[1] = -13.0;
    double *cur = doubles(T, 10.0);
    double *states = doubles((T + 1) * 2, 0.0);
    uint8_t *spikes = malloc((size_t)T);
    const char *izh = "izhikevich", *rk4 = "rk4";

    expect("simulate valid", simulate(izh, rk4, p, 5, y0, cur, T, 0.1, states, spikes), 0);
    expect("model NULL", simulate(NULL, rk4, p, 5, y0, cur, T, 0.1, states, spikes), 1);
    expect("integrator NULL", simulate(izh, NULL, p, 5, y0, cur, T, 0.1, states, spikes), 1);
    expect("params NULL", simulate(izh, rk4, NULL, 5, y0, cur, T, 0.1, states, spikes), 1);
    expect("y0 NULL", simulate(izh, rk4, p, 5, NULL, cur, T, 0.1, states, spikes), 1);
    expect("current NULL", simulate(izh, rk4, p, 5, y0, NULL, T, 0.1, states, spikes), 1);
    expect("out_states NULL", simulate(izh, rk4, p, 5, y0, cur, T, 0.1, NULL, spikes), 1);
    expect("out_spikes NULL", simulate(izh, rk4, p, 5, y0, cur, T, 0.1, states, NULL), 1);
    expect("unknown model", simulate("lif", rk4, p, 5, y0, cur, T, 0.1, states, spikes), 2);
    expect("empty model", simulate("", rk4, p, 5, y0, cur, T, 0.1, states, spikes), 2);
    expect("unknown integrator",
           simulate(izh, "dopri5", p, 5, y0, cur, T, 0.1, states, spikes), 3);
    expect("n_params 4", simulate(izh, rk4, p4, 4, y0, cur, T, 0.1, states, spikes), 4);
    expect("n_params -1", simulate(izh, rk4, p, -1, y0, cur, T, 0.1, states, spikes), 4);
    expect("n_params huge",
           simulate(izh, rk4, p, INT64_C(1) << 62, y0, cur, T, 0.1, states, spikes), 4);
    expect("empty current (n_steps 0)",
           simulate(izh, rk4, p, 5, y0, cur, 0, 0.1, states, spikes), 5);
    expect("n_steps -5", simulate(izh, rk4, p, 5, y0, cur, -5, 0.1, states, spikes), 5);
    expect("n_steps huge",
           simulate(izh, rk4, p, 5, y0, cur, INT64_C(1) << 62, 0.1, states, spikes), 5);
    expect("dt 0", simulate(izh, rk4, p, 5, y0, cur, T, 0.0, states, spikes), 5);
    expect("dt -1", simulate(izh, rk4, p, 5, y0, cur, T, -1.0, states, spikes), 5);
    expect("dt NaN", simulate(izh, rk4, p, 5, y0, cur, T, NAN, states, spikes), 5);
    expect("dt inf", simulate(izh, rk4, p, 5, y0, cur, T, INFINITY, states, spikes), 5);
    p[2] = NAN;
    expect("params NaN", simulate(izh, rk4, p, 5, y0, cur, T, 0.1, states, spikes), 5);
    p[2] = -65.0;
    y0[0] = INFINITY;
    expect("y0 inf", simulate(izh, rk4, p, 5, y0, cur, T, 0.1, states, spikes), 5);
    y0[0] = -65.0;
    cur[T - 1] = NAN; /* the last sample: a check that stops one short would read past it */
    expect("current NaN", simulate(izh, rk4, p, 5, y0, cur, T, 0.1, states, spikes), 5);
    cur[T - 1] = 10.0;
    double *adex = doubles(10, 1.0);
    adex[0] = -1.0;
    expect("adex c < 0", simulate("adex", rk4, adex, 10, y0, cur, T, 0.1, states, spikes), 5);
    free(adex); free(p); free(p4); free(y0); free(cur); free(states); free(spikes);
}

static void bad_small_function_inputs(void) {
    expect_size("state_size NULL", (long)state_size(NULL), -1);
    expect_size("state_size unknown", (long)state_size("nope"), -1);
    expect_size("param_size NULL", (long)param_size(NULL), -1);
    expect_size("param_size unknown", (long)param_size("nope"), -1);
    expect_size("state_size adex", (long)state_size("adex"), 2);
    expect_size("param_size hodgkin_huxley", (long)param_size("hodgkin_huxley"), 8);

    double *out9 = doubles(9, 0.0), *out10 = doubles(10, 0.0);
    expect("default_params out NULL", default_params("adex", NULL, 10), 1);
    expect("default_params model NULL", default_params(NULL, out10, 10), 1);
    expect("default_params unknown", default_params("nope", out10, 10), 2);
    expect("default_params n_out 9", default_params("adex", out9, 9), 4);
    expect("default_params valid", default_params("adex", out10, 10), 0);

    double *p = doubles(5, 0.0), *s2 = doubles(2, 0.0), *s3 = doubles(3, 0.0);
    p[0] = 0.02; p[1] = 0.2; p[2] = -65.0; p[3] = 8.0; p[4] = 30.0;
    expect("initial_state params NULL", initial_state("izhikevich", NULL, 5, s2, 2), 1);
    expect("initial_state out NULL", initial_state("izhikevich", p, 5, NULL, 2), 1);
    expect("initial_state model NULL", initial_state(NULL, p, 5, s2, 2), 1);
    expect("initial_state unknown", initial_state("nope", p, 5, s2, 2), 2);
    expect("initial_state n_out 3", initial_state("izhikevich", p, 5, s3, 3), 4);
    expect("initial_state n_params 6", initial_state("izhikevich", p, 6, s2, 2), 4);
    p[1] = NAN;
    expect("initial_state params NaN", initial_state("izhikevich", p, 5, s2, 2), 5);
    p[1] = 0.2;
    expect("initial_state valid", initial_state("izhikevich", p, 5, s2, 2), 0);
    free(out9); free(out10); free(p); free(s2); free(s3);
}

/* One valid run of every model with every integrator, into exactly sized buffers. */
static void valid_runs(void) {
    static const char *models[] = {"izhikevich", "hodgkin_huxley", "adex"};
    static const char *integrators[] = {"euler", "half_euler", "rk4"};
    const int64_t T = 25;
    for (int m = 0; m < 3; m++) {
        int64_t n_state = state_size(models[m]), n_params = param_size(models[m]);
        double *p = doubles(n_params, 0.0), *y0 = doubles(n_state, 0.0);
        double *cur = doubles(T, 10.0), *states = doubles((T + 1) * n_state, 0.0);
        uint8_t *spikes = malloc((size_t)T);
        expect(models[m], default_params(models[m], p, n_params), 0);
        expect(models[m], initial_state(models[m], p, n_params, y0, n_state), 0);
        for (int i = 0; i < 3; i++) {
            char what[64];
            snprintf(what, sizeof what, "valid %s %s", models[m], integrators[i]);
            expect(what, simulate(models[m], integrators[i], p, n_params, y0, cur, T, 0.05,
                                  states, spikes), 0);
            /* read every output so memcheck sees whether the library wrote it all */
            double sum = 0.0;
            for (int64_t k = 0; k < (T + 1) * n_state; k++) sum += states[k];
            for (int64_t k = 0; k < T; k++) sum += spikes[k];
            if (!isfinite(sum)) expect(what, 1, 0);
        }
        free(p); free(y0); free(cur); free(states); free(spikes);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s LIBRARY.so\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "abi_bad_input: %s\n", dlerror());
        return 2;
    }
    abi_version = (abi_version_fn)symbol(lib, "scjax_abi_version");
    state_size = (size_fn)symbol(lib, "scjax_state_size");
    param_size = (size_fn)symbol(lib, "scjax_param_size");
    default_params = (default_params_fn)symbol(lib, "scjax_default_params");
    initial_state = (initial_state_fn)symbol(lib, "scjax_initial_state");
    last_error = (last_error_fn)symbol(lib, "scjax_last_error");
    simulate = (simulate_fn)symbol(lib, "scjax_simulate");

    expect_size("abi_version", abi_version(), SCJAX_ABI_VERSION);
    bad_simulate_inputs();
    bad_small_function_inputs();
    valid_runs();
    printf("cases %d failed %d\n", n_cases, n_failed);
    return n_failed == 0 ? 0 : 1;
}
