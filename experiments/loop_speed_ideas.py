"""Which changes to the batched loop's step pay on XLA's CPU backend (issue 9)? A/B timings.

    python experiments/loop_speed_ideas.py [--neurons 10000] [--steps 4000] [--repeats 5]

Izhikevich (2003) RS, half-step Euler at dt = 0.5 ms, I_i = 5 + 10 i/N, spike counts only,
written as a plain `jax.lax.scan` over separate [N] vectors (the form scjax's unstacked carry
compiles to), in several variants of one step:

  no_guard            the recurrence alone (experiments/bench_population's plain_jax)
  guard_direct        + `where(all(isfinite(candidate)), kept, nan)` on every component (the
                      loop's guard before this change)
  guard_own           + each component NaN where its own candidate is not finite, and a
                      sticky flag in the sign of the spike count set from a NaN in the state
                      (the loop's guard now, `scjax/simulation/_loop.py`)
  guard_count_flag    + the flag set in the count from all candidates' finiteness, no guard
                      on the state (the count's fusion then also computes u)
  guard_arith         + the direct guard as arithmetic: kept − Σ(candidate − candidate)
  barrier_v           no_guard with `optimization_barrier` on v's candidate (computed once)
  unroll2, unroll4    no_guard with `scan(unroll=k)`
  inner_fori4         no_guard, 4 steps per scan iteration in a `fori_loop`

each compiled with XLA's default `xla_cpu_prefer_vector_width` (256) and with 512, the
option the loop is now compiled with; plus `scjax.simulate_batch` itself with and without
its CPU options, with and without its shared-once rewrite (`_loop.SHARED_ONCE_ON_CPU`,
scjax/simulation/_materialise.py), with a float64 instead of a float32 divergence offset in
float64 runs (`_loop.FLOAT32_OFFSET_IN_FLOAT64`), and, on HH, with `expm1="polynomial"`
(scjax/_polynomial_expm1.py), on Izhikevich, FitzHugh-Nagumo and AdEx (dt 0.01 ms), HH RK4
and HH exponential Euler (dt 0.01 ms, steps / 4).
Interleaved repeats, medians; writes experiments/results/loop_speed_ideas.json. The box is
shared: the load average is recorded, and "partitioned" counts the fusions XLA splits over
the cores (they slow down sharply when another process holds a core).
"""

import argparse
import json
import os
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)  # this script only; float32 runs pass dtype
import jax.numpy as jnp
import numpy as np

import scjax
from scjax.simulation import _loop

VARIANTS = (
    "no_guard",
    "guard_direct",
    "guard_own",
    "guard_count_flag",
    "guard_arith",
    "barrier_v",
    "unroll2",
    "unroll4",
    "inner_fori4",
)
WIDTHS = (256, 512)
#: The loop's own CPU options, restored after the runs that switch them off.
LOOP_OPTIONS = dict(_loop.CPU_COMPILER_OPTIONS)


def izhikevich_program(variant: str, n: int, steps: int, dtype):
    amplitude = jnp.asarray(5.0 + 10.0 * np.arange(n) / n, dtype)
    dt = jnp.asarray(0.5, dtype)
    half = 0.5 * dt

    def one(v, u, count):
        vv = v + half * (0.04 * v * v + 5.0 * v + 140.0 - u + amplitude)
        vv = vv + half * (0.04 * vv * vv + 5.0 * vv + 140.0 - u + amplitude)
        uu = u + dt * (0.02 * (0.2 * vv - u))
        if variant == "barrier_v":
            vv = jax.lax.optimization_barrier(vv)
        spike = vv >= 30.0
        v_kept, u_kept = jnp.where(spike, -65.0, vv), jnp.where(spike, uu + 8.0, uu)
        if variant == "guard_direct":
            ok = jnp.isfinite(vv) & jnp.isfinite(uu)
            v_kept, u_kept = jnp.where(ok, v_kept, jnp.nan), jnp.where(ok, u_kept, jnp.nan)
        elif variant == "guard_arith":
            s = (vv - vv) + (uu - uu)
            v_kept, u_kept = v_kept - s, u_kept - s
        elif variant in ("guard_own", "guard_count_flag"):
            if variant == "guard_own":
                healthy = (count >= 0) & ~(jnp.isnan(v) | jnp.isnan(u))
                v_kept = jnp.where(jnp.isfinite(vv), v_kept, jnp.nan)
                u_kept = jnp.where(jnp.isfinite(uu), u_kept, jnp.nan)
                ok = healthy
            else:
                healthy = count >= 0
                ok = healthy & jnp.isfinite(vv) & jnp.isfinite(uu)
            n_in = jnp.where(count >= 0, count, ~count)
            n_out = n_in + (spike & healthy).astype(jnp.int32)
            return v_kept, u_kept, jnp.where(ok, n_out, ~n_out)
        return v_kept, u_kept, count + spike.astype(jnp.int32)

    inner = 4 if variant == "inner_fori4" else 1
    unroll = {"unroll2": 2, "unroll4": 4}.get(variant, 1)

    def step(carry, _):
        if inner == 1:
            return one(*carry), None
        return jax.lax.fori_loop(0, inner, lambda i, c: one(*c), carry), None

    def counts():
        init = (jnp.full(n, -65.0, dtype), jnp.full(n, -13.0, dtype), jnp.zeros(n, jnp.int32))
        (_, _, count), _ = jax.lax.scan(step, init, None, length=steps // inner, unroll=unroll)
        return jnp.where(count >= 0, count, ~count)

    return jax.jit(counts)


#: scjax workloads timed with and without the loop's CPU options and its shared-once
#: rewrite (`_materialise`): (model, dt, step divisor).
SCJAX_WORKLOADS = {
    "izhikevich_rs": (scjax.Izhikevich.preset("RS"), 0.5, 1),
    "fitzhugh_nagumo": (scjax.FitzHughNagumo(), 0.01, 1),
    "adex": (scjax.AdEx(), 0.01, 1),
    "hh_rk4": (scjax.HodgkinHuxley(integrator="rk4"), 0.01, 4),
    "hh_exponential_euler": (scjax.HodgkinHuxley(integrator="exponential_euler"), 0.01, 4),
}
#: The loop's settings timed: (compiler options, SHARED_ONCE_ON_CPU,
#: FLOAT32_OFFSET_IN_FLOAT64, simulate_batch's expm1).
SCJAX_SETTINGS = {
    "width256": ({}, True, True, "xla"),
    "width512": (LOOP_OPTIONS, True, True, "xla"),
    "width512_no_shared_once": (LOOP_OPTIONS, False, True, "xla"),
    "width512_float64_offset": (LOOP_OPTIONS, True, False, "xla"),
    "width512_polynomial_expm1": (LOOP_OPTIONS, True, True, "polynomial"),
}
#: The settings that change nothing on a model without expm1 (the same program).
EXPM1_SETTINGS = ("width512_polynomial_expm1",)
EXPM1_WORKLOADS = ("hh_rk4", "hh_exponential_euler")


def _scjax_run(n, steps, dtype, setting, workload="izhikevich_rs"):
    """`scjax.simulate_batch` (counts only) with the loop's CPU options and shared-once
    switch set to `setting`; `prepare=True` retraces and recompiles with them (the loop's
    trace and its compile are cached)."""
    amplitude = jnp.asarray(5.0 + 10.0 * np.arange(n) / n, dtype)
    model, dt, divisor = SCJAX_WORKLOADS[workload]
    stimulus = scjax.stimulus.Constant(amplitude)
    steps = steps // divisor  # HH steps cost ~20x an Izhikevich step

    options, shared_once, float32_offset, expm1 = setting

    def run(prepare=False):
        if prepare:
            _loop.CPU_COMPILER_OPTIONS, _loop.SHARED_ONCE_ON_CPU = options, shared_once
            _loop.FLOAT32_OFFSET_IN_FLOAT64 = float32_offset
            jax.clear_caches()
            _loop.compiled_for_backend.cache_clear()
        tr = scjax.simulate_batch(
            model, stimulus, dt, n_steps=steps, spikes="count", save_every=steps, expm1=expm1
        )
        return tr.spike_count

    run.steps = steps

    return run


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        return None
    return names[0] if names else None


def compiled(fn, width):
    lowered = fn.lower()
    if width == 256:
        return lowered.compile()
    return lowered.compile(compiler_options={"xla_cpu_prefer_vector_width": width})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--neurons", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--out",
        default=os.path.join(os.path.dirname(__file__), "results", "loop_speed_ideas.json"),
    )
    args = parser.parse_args()
    n, steps = args.neurons, args.steps
    load_start = os.getloadavg()
    results = {}
    for dtype_name in ("float64", "float32"):
        dtype = getattr(jnp, dtype_name)
        runs, reference = {}, None
        for variant in VARIANTS:
            fn = izhikevich_program(variant, n, steps, dtype)
            for width in WIDTHS:
                c = compiled(fn, width)
                counts = np.asarray(c())
                reference = counts if reference is None else reference
                runs[f"{variant}/width{width}"] = {
                    "run": c,
                    "partitioned": c.as_text().count("outer_dimension_partitions"),
                    "counts_equal_no_guard": bool(np.array_equal(counts, reference)),
                }
        for workload in SCJAX_WORKLOADS:
            for label, setting in SCJAX_SETTINGS.items():
                if label in EXPM1_SETTINGS and workload not in EXPM1_WORKLOADS:
                    continue
                run = _scjax_run(n, steps, dtype, setting, workload)
                counts = np.asarray(run(prepare=True))
                same = np.array_equal(counts, reference) if workload == "izhikevich_rs" else None
                runs[f"scjax.simulate_batch/{workload}/{label}"] = {
                    "run": run,
                    "partitioned": None,
                    "counts_equal_no_guard": None if same is None else bool(same),
                }
        times = {k: [] for k in runs}
        for _ in range(args.repeats):  # interleaved: every variant once per round
            for k, r in runs.items():
                if k.startswith("scjax"):
                    r["run"](prepare=True)  # recompile with its options, untimed
                start = time.perf_counter()
                jax.block_until_ready(r["run"]())
                times[k].append(time.perf_counter() - start)
        _loop.CPU_COMPILER_OPTIONS, _loop.SHARED_ONCE_ON_CPU = dict(LOOP_OPTIONS), True
        _loop.FLOAT32_OFFSET_IN_FLOAT64 = True
        jax.clear_caches()
        _loop.compiled_for_backend.cache_clear()
        results[dtype_name] = {
            k: {
                "neuron_steps_per_s_median": n
                * getattr(r["run"], "steps", steps)
                / float(np.median(times[k])),
                "seconds_all": times[k],
                "partitioned_fusions": r["partitioned"],
                "counts_equal_no_guard": r["counts_equal_no_guard"],
            }
            for k, r in runs.items()
        }
        for k, v in results[dtype_name].items():
            rate = v["neuron_steps_per_s_median"] / 1e6
            print(f"{dtype_name} {k:40s} {rate:8.1f} M/s", flush=True)
    document = {
        "benchmark": "experiments/loop_speed_ideas.py (issue 9)",
        "neurons": n,
        "steps": steps,
        "repeats": args.repeats,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "cpu_model": _cpu_model(),
            "jax": jax.__version__,
            "load_average_start": load_start,
            "load_average_end": os.getloadavg(),
        },
        "results": results,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(document, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
