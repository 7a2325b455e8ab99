/* C reference for experiments/bench_population.py: N independent neurons, each with its own
 * constant current I_i = 5 + 10 i / N, spike counts only.
 *
 *   population MODEL N STEPS THREADS COUNTS_OUT
 *
 * MODEL: hh (classic Hodgkin-Huxley, classic RK4, dt 0.01 ms, spike = upward crossing of 0 mV)
 *     or izh (Izhikevich 2003 RS: v by two dt/2 Euler half steps, then u with the new v; reset
 *     v >= 30 -> v = c, u += d; dt 0.5 ms).
 * The arithmetic follows native/rust/src/lib.rs (scjax's native library) operation by
 * operation, exprel included, so a build without -ffast-math and with -ffp-contract=off gives
 * the same floating-point results as the Rust/JAX float64 paths. REAL is double unless
 * compiled with -DREAL=float. Writes one int32 count per neuron to COUNTS_OUT and prints
 * "seconds <wall time of the loop>" on stdout. Returns non-zero on bad arguments.
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef REAL
#define REAL double
#endif
typedef REAL real;
#define BLOCK 512 /* neurons per block: the block's state stays in L1/L2 over all steps */

#define C(x) ((real)(x))

static inline real exprel(real z) {
    /* Taylor branch below |z| < 1e-6, as scjax.models._base.exprel */
    return fabs((double)z) < 1e-6 ? C(1.0) + z / C(2.0) + z * z / C(6.0)
                                  : (real)expm1(z) / z;
}

#pragma omp declare simd
static inline void hh_rhs(real v, real m, real h, real n, real i, real *dv, real *dm, real *dh,
                          real *dn) {
    const real g_na = 120.0, g_k = 36.0, g_l = 0.3, e_na = 50.0, e_k = -77.0, e_l = -54.387;
    const real c_m = 1.0;
    real i_na = g_na * m * m * m * h * (v - e_na);
    real i_k = g_k * (n * n) * (n * n) * (v - e_k);
    real i_l = g_l * (v - e_l);
    *dv = (i - i_na - i_k - i_l) / c_m;
    real za = -(v + C(40.0)) / C(10.0), zn = -(v + C(55.0)) / C(10.0);
    real alpha_m = C(1.0) / (fabs(za) < 1e-6 ? C(1.0) + za / C(2.0) + za * za / C(6.0)
                                             : expm1(za) / za);
    real beta_m = C(4.0) * exp(-(v + C(65.0)) / C(18.0));
    real alpha_h = C(0.07) * exp(-(v + C(65.0)) / C(20.0));
    real beta_h = C(1.0) / (C(1.0) + exp(-(v + C(35.0)) / C(10.0)));
    real alpha_n = C(0.1) / (fabs(zn) < 1e-6 ? C(1.0) + zn / C(2.0) + zn * zn / C(6.0)
                                             : expm1(zn) / zn);
    real beta_n = C(0.125) * exp(-(v + C(65.0)) / C(80.0));
    *dm = alpha_m * (C(1.0) - m) - beta_m * m;
    *dh = alpha_h * (C(1.0) - h) - beta_h * h;
    *dn = alpha_n * (C(1.0) - n) - beta_n * n;
}

static void hh_block(int n0, int n1, int total, long steps, int32_t *counts) {
    real v[BLOCK], m[BLOCK], h[BLOCK], n[BLOCK], cur[BLOCK];
    int32_t cnt[BLOCK];
    const real dt = 0.01, half = C(0.5) * dt, sixth = dt / C(6.0);
    /* initial state: V = -65 mV, gates at their steady state (lib.rs initial_state) */
    double v0 = -65.0;
    double am = 1.0 / exprel(-(v0 + 40.0) / 10.0), bm = 4.0 * exp(-(v0 + 65.0) / 18.0);
    double ah = 0.07 * exp(-(v0 + 65.0) / 20.0), bh = 1.0 / (1.0 + exp(-(v0 + 35.0) / 10.0));
    double an = 0.1 / exprel(-(v0 + 55.0) / 10.0), bn = 0.125 * exp(-(v0 + 65.0) / 80.0);
    int len = n1 - n0;
    for (int j = 0; j < len; j++) {
        v[j] = (real)v0; m[j] = (real)(am / (am + bm)); h[j] = (real)(ah / (ah + bh));
        n[j] = (real)(an / (an + bn));
        cur[j] = (real)(5.0 + 10.0 * (double)(n0 + j) / (double)total);
        cnt[j] = 0;
    }
    for (long k = 0; k < steps; k++) {
#pragma omp simd
        for (int j = 0; j < len; j++) {
            real k1v, k1m, k1h, k1n, k2v, k2m, k2h, k2n, k3v, k3m, k3h, k3n, k4v, k4m, k4h, k4n;
            real y0v = v[j], y0m = m[j], y0h = h[j], y0n = n[j], i = cur[j];
            hh_rhs(y0v, y0m, y0h, y0n, i, &k1v, &k1m, &k1h, &k1n);
            hh_rhs(y0v + half * k1v, y0m + half * k1m, y0h + half * k1h, y0n + half * k1n, i,
                   &k2v, &k2m, &k2h, &k2n);
            hh_rhs(y0v + half * k2v, y0m + half * k2m, y0h + half * k2h, y0n + half * k2n, i,
                   &k3v, &k3m, &k3h, &k3n);
            hh_rhs(y0v + dt * k3v, y0m + dt * k3m, y0h + dt * k3h, y0n + dt * k3n, i, &k4v,
                   &k4m, &k4h, &k4n);
            real vn = y0v + sixth * (k1v + C(2.0) * k2v + C(2.0) * k3v + k4v);
            m[j] = y0m + sixth * (k1m + C(2.0) * k2m + C(2.0) * k3m + k4m);
            h[j] = y0h + sixth * (k1h + C(2.0) * k2h + C(2.0) * k3h + k4h);
            n[j] = y0n + sixth * (k1n + C(2.0) * k2n + C(2.0) * k3n + k4n);
            cnt[j] += (y0v < C(0.0)) & (vn >= C(0.0));
            v[j] = vn;
        }
    }
    memcpy(counts + n0, cnt, sizeof(int32_t) * len);
}

static void izh_block(int n0, int n1, int total, long steps, int32_t *counts) {
    real v[BLOCK], u[BLOCK], cur[BLOCK];
    int32_t cnt[BLOCK];
    const real a = 0.02, b = 0.2, c = -65.0, d = 8.0, v_peak = 30.0;
    const real dt = 0.5, half = C(0.5) * dt;
    int len = n1 - n0;
    for (int j = 0; j < len; j++) {
        v[j] = C(-65.0); u[j] = b * C(-65.0);
        cur[j] = (real)(5.0 + 10.0 * (double)(n0 + j) / (double)total);
        cnt[j] = 0;
    }
    for (long k = 0; k < steps; k++) {
#pragma omp simd
        for (int j = 0; j < len; j++) {
            real y0v = v[j], y0u = u[j], i = cur[j];
            real vv = y0v + half * (C(0.04) * y0v * y0v + C(5.0) * y0v + C(140.0) - y0u + i);
            vv = vv + half * (C(0.04) * vv * vv + C(5.0) * vv + C(140.0) - y0u + i);
            real uu = y0u + dt * (a * (b * vv - y0u));
            int spike = vv - v_peak >= C(0.0);
            v[j] = spike ? c : vv;
            u[j] = spike ? uu + d : uu;
            cnt[j] += spike;
        }
    }
    memcpy(counts + n0, cnt, sizeof(int32_t) * len);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s hh|izh N STEPS THREADS COUNTS_OUT\n", argv[0]);
        return 2;
    }
    int hh = strcmp(argv[1], "hh") == 0;
    if (!hh && strcmp(argv[1], "izh") != 0) {
        fprintf(stderr, "MODEL must be hh or izh, got %s\n", argv[1]);
        return 2;
    }
    long total = atol(argv[2]), steps = atol(argv[3]);
    int threads = atoi(argv[4]);
    if (total <= 0 || total > 100000000 || steps <= 0 || threads <= 0) {
        fprintf(stderr, "N, STEPS and THREADS must be positive, got %s %s %s\n", argv[2],
                argv[3], argv[4]);
        return 2;
    }
    int32_t *counts = calloc((size_t)total, sizeof(int32_t));
    if (!counts) {
        fprintf(stderr, "out of memory for %ld counts\n", total);
        return 3;
    }
    omp_set_num_threads(threads);
    long blocks = (total + BLOCK - 1) / BLOCK;
    double start = omp_get_wtime();
#pragma omp parallel for schedule(dynamic, 1)
    for (long blk = 0; blk < blocks; blk++) {
        int n0 = (int)(blk * BLOCK), n1 = (int)((blk + 1) * BLOCK < total ? (blk + 1) * BLOCK
                                                                           : total);
        if (hh) hh_block(n0, n1, (int)total, steps, counts);
        else izh_block(n0, n1, (int)total, steps, counts);
    }
    double seconds = omp_get_wtime() - start;
    FILE *f = fopen(argv[5], "wb");
    if (!f || fwrite(counts, sizeof(int32_t), (size_t)total, f) != (size_t)total) {
        fprintf(stderr, "cannot write %s\n", argv[5]);
        return 4;
    }
    fclose(f);
    free(counts);
    printf("seconds %.9f\n", seconds);
    return 0;
}
