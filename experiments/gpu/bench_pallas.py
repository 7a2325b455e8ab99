"""XLA loop against the Pallas loop (`simulate_batch(loop=...)`) on one device, interleaved.

    PYTHONPATH=. python3 experiments/gpu/bench_pallas.py [--neurons 1000000] [--steps 10000]
        [--repeats 3] [--blocks 128,256,512,512x8] [--fast-blocks 256x8,512x4] [--budget-s 240]
        [--out FILE]

Five workloads, float32, spike counts and final state only (`spikes="count"`,
`save_every=T`): Hodgkin–Huxley RK4 (dt 0.01 ms, per-neuron g_Na and constant current),
Izhikevich RS with half-step Euler (dt 0.5 ms, per-neuron a and constant current),
Hodgkin–Huxley RK4 driven by a per-neuron constant plus an Ornstein–Uhlenbeck current (one
threefry draw per neuron-step, inside the kernel for the Pallas loop), and the Izhikevich
workload with `events="in_step"` (the crossing located by Newton on the solver's step, the
reset applied there; both loops evaluate the root find for every neuron every step), and
Hodgkin–Huxley with `RosenbrockEuler(linear_solve="elimination")` (a Jacobian and a 4 × 4
pivoting elimination per step, in both loops). Each
contender (the XLA `lax.scan` loop; the Pallas kernel at each block size, and with
`PallasLoop(math="fast")` at the --fast-blocks) is compiled once,
then timed in interleaved rounds (XLA, Pallas …, XLA, Pallas …), and the median of the
rounds is kept. Reported per contender: neuron-steps/s, the bytes and FLOPs it must move and
compute (estimates, below) per second and as fractions of the H200's peaks (4.8 TB/s HBM,
67 TFLOP/s float32 without tensor cores), and its agreement with the XLA loop: the neurons
whose spike counts are equal, the largest count difference, the final states that are bit
for bit equal and the largest difference of the final V.

Estimates: FLOPs per neuron-step are the arithmetic primitives of the traced, dead-code-
eliminated batched step (`integer_pow` x^k as k − 1 multiplies; transcendentals such as exp
counted as one each, although each costs 10–20 instructions: a lower bound). Bytes for the
XLA loop are its minimum per step: the carry (state and count) read and written once and the
per-neuron parameters read once; for the Pallas loop, per run: parameters and the initial
state read once, the counts and final (and saved) states written once.

Robust by construction: a contender that fails to lower, compile or run is recorded with its
error and the rest continue; rounds stop when `--budget-s` is spent, and past it a workload
compiles only the XLA loop and the first block size. Writes JSON to --out
(default: $OUT/bench_pallas.json if OUT is set, else experiments/results/bench_pallas.json).
"""

import argparse
import json
import os
import platform
import time
import traceback

import jax
import jax.numpy as jnp
import numpy as np

import scjax
from scjax.simulation import PallasLoop
from scjax.simulation._events import events_from_argument
from scjax.simulation._loop import components_step, one_neuron_step
from scjax.solvers import solver_from_name

#: H200 SXM peaks (vendor datasheet; see the device notes): HBM bandwidth, float32 FMA rate.
PEAK_BYTES_PER_S = 4.8e12
PEAK_FLOP_PER_S_F32 = 67e12

_ARITHMETIC = {"add", "sub", "mul", "div", "neg", "max", "min", "abs", "sqrt", "rsqrt"}
_TRANSCENDENTAL = {"exp", "expm1", "log", "log1p", "sin", "cos", "tanh", "logistic", "pow"}


def workloads(n: int, dtype):
    """(name, model, stimulus, dt)."""
    hh = scjax.HodgkinHuxley(integrator="rk4", g_na=jnp.linspace(108.0, 132.0, n, dtype=dtype))
    izh = scjax.Izhikevich(a=jnp.linspace(0.015, 0.025, n, dtype=dtype))
    amplitudes = scjax.stimulus.Constant(jnp.linspace(4.0, 16.0, n, dtype=dtype))
    izh_amplitudes = scjax.stimulus.Constant(jnp.linspace(2.0, 15.0, n, dtype=dtype))
    noise = scjax.stimulus.OrnsteinUhlenbeck(mean=0.0, std=2.0, tau=5.0)
    noise = jax.tree.map(lambda x: jnp.asarray(x, dtype), noise)
    return [
        ("hh_rk4", hh, amplitudes, 0.01),
        ("izhikevich", izh, izh_amplitudes, 0.5),
        ("hh_rk4_ou_noise", hh, amplitudes + noise, 0.01),
        ("izhikevich_in_step", izh, izh_amplitudes, 0.5),
        ("hh_rosenbrock_euler", hh, amplitudes, 0.01),
    ]


#: The workloads run with `events=` other than the default (the others: "end_of_step").
EVENTS = {"izhikevich_in_step": "in_step"}
#: The workloads run with a solver other than the model's integrator.
SOLVERS = {"hh_rosenbrock_euler": scjax.solvers.RosenbrockEuler(linear_solve="elimination")}


def _live_eqns(jaxpr):
    """The equations of a jaxpr that its outputs depend on (a small dead-code elimination)."""
    needed = {v for v in jaxpr.outvars if not isinstance(v, jax.extend.core.Literal)}
    live = []
    for eqn in reversed(jaxpr.eqns):
        if any(v in needed for v in eqn.outvars):
            live.append(eqn)
            needed |= {v for v in eqn.invars if not isinstance(v, jax.extend.core.Literal)}
    return live


def step_flops(model, dt, dtype, events="end_of_step", solver=None) -> dict:
    """Arithmetic and transcendental operations of one neuron-step of the batched step (with
    in-step events: the kernel's straight-line step, the root find evaluated every step)."""
    if solver is None:
        solver = solver_from_name(model.integrator, fast_mask=model.fast_mask)
    model = jax.tree.map(lambda x: jnp.asarray(x, dtype)[:1] if jnp.ndim(x) else x, model)
    axes = jax.tree.map(lambda x: 0 if jnp.ndim(x) == 1 else None, model)
    neuron_step = one_neuron_step(
        solver, jnp.asarray(dt, dtype), None, events_from_argument(events), straight_line=True
    )
    step = components_step(neuron_step, model.n_state, axes, 0)
    y = tuple(jnp.zeros(1, dtype) for _ in range(model.n_state))
    closed = jax.make_jaxpr(lambda y, i: step(model, y, jnp.zeros((), dtype), i))(
        y, jnp.zeros(1, dtype)
    )
    arithmetic = transcendental = 0
    for eqn in _live_eqns(closed.jaxpr):
        name = eqn.primitive.name
        if name in _ARITHMETIC:
            arithmetic += 1
        elif name == "integer_pow":
            arithmetic += max(abs(eqn.params["y"]) - 1, 1)
        elif name in _TRANSCENDENTAL:
            transcendental += 1
    return {"arithmetic": arithmetic, "transcendental": transcendental}


def contender_fn(
    model, stimulus, dt, n_steps, loop, spikes="count", events="end_of_step", solver=None
):
    """A jitted run: (per-neuron model parameter, amplitudes) → (counts, final state)
    (`spikes="times"` or `"raster"`: the kernel records them too; offline_triton.py)."""

    @jax.jit
    def run(model, stimulus):
        tr = scjax.simulate_batch(
            model,
            stimulus,
            dt,
            n_steps=n_steps,
            spikes=spikes,
            save_every=n_steps,
            throw=False,
            loop=loop,
            events=events,
            solver=solver,
            key=jax.random.key(0) if stimulus.is_stochastic else None,
        )
        return tr.spike_count, tr.y[:, -1]

    return run


def agreement(reference, other) -> dict:
    (c0, y0), (c1, y1) = [(np.asarray(c), np.asarray(y)) for c, y in (reference, other)]
    equal_rows = np.all(
        y0.view(np.uint8).reshape(len(y0), -1) == y1.view(np.uint8).reshape(len(y1), -1), axis=1
    )
    dv = np.abs(y0[:, 0].astype(np.float64) - y1[:, 0].astype(np.float64))
    return {
        "counts_equal_fraction": float(np.mean(c0 == c1)),
        "counts_max_abs_diff": int(np.max(np.abs(c0.astype(np.int64) - c1))),
        "neurons_with_different_counts": int(np.sum(c0 != c1)),
        "total_spikes": [int(c0.sum()), int(c1.sum())],
        "final_state_bitwise_equal_fraction": float(np.mean(equal_rows)),
        "final_v_max_abs_diff": float(np.nanmax(dv)) if np.isfinite(dv).any() else None,
        "final_state_all_finite": bool(np.isfinite(y1).all()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--neurons", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    # block_size[xnum_warps]: 512x8 is the best static ceiling of offline_triton.py for HH.
    parser.add_argument("--blocks", default="128,256,512,512x8")
    # The same, with PallasLoop(math="fast") (ex2.approx, div.approx; 512x4 its best static
    # ceiling, 256x8 the fewest registers): its speed and its
    # agreement with the XLA loop on the device, the one place its PTX instructions run.
    parser.add_argument("--fast-blocks", default="256x8,512x4")
    parser.add_argument("--budget-s", type=float, default=240.0)
    parser.add_argument("--interpret", action="store_true", help="Pallas interpret mode (CPU)")
    default_dir = os.environ.get("OUT") or os.path.join(os.path.dirname(__file__), "..", "results")
    parser.add_argument("--out", default=os.path.join(default_dir, "bench_pallas.json"))
    args = parser.parse_args()
    start_all = time.perf_counter()
    dtype = jnp.float32
    n, steps = args.neurons, args.steps
    blocks = [(*_block(b), "libdevice") for b in args.blocks.split(",") if b]
    blocks += [(*_block(b), "fast") for b in args.fast_blocks.split(",") if b]
    record = {
        "benchmark": "XLA loop vs Pallas loop, simulate_batch(spikes='count', save_every=T), "
        "float32, interleaved rounds, medians",
        "machine": {
            "platform": platform.platform(),
            "backend": jax.default_backend(),
            "devices": [str(d) for d in jax.devices()],
            "device_kind": jax.devices()[0].device_kind,
        },
        "versions": {"jax": jax.__version__, "scjax": scjax.__version__},
        "neurons": n,
        "steps": steps,
        "repeats": args.repeats,
        "peaks": {"bytes_per_s": PEAK_BYTES_PER_S, "flop_per_s_f32": PEAK_FLOP_PER_S_F32},
        "workloads": [],
    }
    itemsize = jnp.dtype(dtype).itemsize
    for name, model, stimulus, dt in workloads(n, dtype):
        entry: dict = {"name": name, "model": type(model).__name__, "dt": dt}
        entry["integrator"] = model.integrator
        events = entry["events"] = EVENTS.get(name, "end_of_step")
        solver = SOLVERS.get(name)
        entry["solver"] = None if solver is None else repr(solver)
        try:
            entry["flops_per_neuron_step"] = step_flops(model, dt, dtype, events, solver)
        except Exception as error:  # noqa: BLE001
            entry["flops_per_neuron_step"] = {"error": repr(error)[:500]}
        flops = entry["flops_per_neuron_step"]
        flop_count = flops.get("arithmetic", 0) + flops.get("transcendental", 0)
        n_state = model.n_state
        per_neuron_params = 2  # the per-neuron model parameter and the stimulus amplitude
        bytes_xla_step = (2 * n_state + per_neuron_params) * itemsize + 2 * 4
        bytes_pallas_run = (2 * n_state + per_neuron_params) * itemsize + 4
        contenders: list[tuple[str, object]] = [("xla", "xla")]
        for block, warps, math in blocks:
            loop = PallasLoop(block, interpret=args.interpret, num_warps=warps, math=math)
            label = f"pallas_b{block}" + (f"_w{warps}" if warps else "")
            contenders.append((label + ("_fast" if math == "fast" else ""), loop))
        results: dict = {}
        for label, loop in contenders:
            result: dict = {"loop": label}
            results[label] = result
            # Past the budget a workload still gets the XLA loop and the default kernel, so
            # each target keeps its ratio; the other contenders are recorded as not run.
            if time.perf_counter() - start_all > args.budget_s and len(results) > 2:
                result["error"] = "not run: --budget-s spent before it was compiled"
                continue
            try:
                fn = contender_fn(model, stimulus, dt, steps, loop, events=events, solver=solver)
                t = time.perf_counter()
                compiled = fn.lower(model, stimulus).compile()
                result["compile_s"] = time.perf_counter() - t
                t = time.perf_counter()
                out = jax.block_until_ready(compiled(model, stimulus))
                result["first_run_s"] = time.perf_counter() - t
                result["_compiled"], result["_out"] = compiled, out
                result["times_s"] = []
            except Exception as error:  # noqa: BLE001 (recorded; the others continue)
                result["error"] = f"{type(error).__name__}: {error}"[:3000]
                result["traceback_tail"] = traceback.format_exc()[-2000:]
                print(f"{name} {label}: FAILED {result['error'][:300]}", flush=True)
        for _ in range(args.repeats):
            if time.perf_counter() - start_all > args.budget_s:
                entry["budget_exhausted"] = True
                break
            for result in results.values():
                if "error" in result:
                    continue
                try:
                    t = time.perf_counter()
                    jax.block_until_ready(result["_compiled"](model, stimulus))
                    result["times_s"].append(time.perf_counter() - t)
                except Exception as error:  # noqa: BLE001
                    result["error"] = f"{type(error).__name__}: {error}"[:3000]
        reference = results["xla"].get("_out")
        for label, result in results.items():
            compiled = result.pop("_compiled", None)
            out = result.pop("_out", None)
            del compiled
            times = result.get("times_s") or (
                [result["first_run_s"]] if "first_run_s" in result else []
            )
            if not times:
                continue
            median = float(np.median(times))
            rate = n * steps / median
            result["run_s_median"] = median
            result["neuron_steps_per_s"] = rate
            result["flop_per_s"] = rate * flop_count
            result["flop_fraction_of_peak"] = rate * flop_count / PEAK_FLOP_PER_S_F32
            moved = bytes_xla_step * n * steps if label == "xla" else bytes_pallas_run * n
            result["bytes_moved_estimate"] = moved
            result["bytes_per_s"] = moved / median
            result["bytes_fraction_of_peak"] = moved / median / PEAK_BYTES_PER_S
            if out is not None and reference is not None and label != "xla":
                result["agreement_with_xla"] = agreement(reference, out)
                result["speedup_vs_xla"] = results["xla"].get("run_s_median", np.nan) / median
            if out is not None:
                result["mean_spikes"] = float(np.mean(np.asarray(out[0])))
            print(
                f"{name} {label}: {median:.4f} s, {rate:.3g} neuron-steps/s, "
                f"{result['flop_per_s'] / 1e12:.2f} TFLOP/s "
                f"({100 * result['flop_fraction_of_peak']:.1f} % of peak), "
                f"{result['bytes_per_s'] / 1e9:.1f} GB/s "
                f"({100 * result['bytes_fraction_of_peak']:.1f} % of peak)"
                + (
                    f", agreement {result['agreement_with_xla']}"
                    if "agreement_with_xla" in result
                    else ""
                ),
                flush=True,
            )
        entry["results"] = list(results.values())
        # What loop="auto" picks here (Pallas only on a GPU where the kernel compiles).
        try:
            small = jax.tree.map(lambda x: x[:256] if jnp.ndim(x) == 1 else x, (model, stimulus))
            text = str(
                jax.make_jaxpr(
                    lambda m, s, dt=dt, events=events, solver=solver: (
                        scjax.simulate_batch(
                            m,
                            s,
                            dt,
                            n_steps=steps,
                            spikes="count",
                            save_every=steps,
                            loop="auto",
                            events=events,
                            solver=solver,
                            key=jax.random.key(0) if s.is_stochastic else None,
                        ).y
                    )
                )(*small)
            )
            entry["auto_picks"] = "pallas" if "pallas_call" in text else "xla"
        except Exception as error:  # noqa: BLE001
            entry["auto_picks"] = f"error: {error!r}"[:500]
        record["workloads"].append(entry)
        record["total_s"] = time.perf_counter() - start_all
        save(record, args.out)  # after each workload: a run cut short keeps what it measured
    print(f"wrote {args.out} in {record['total_s']:.1f} s")


def _block(text: str) -> tuple[int, int | None]:
    """`"512x8"` → (512, 8); `"256"` → (256, None: Triton's default warps)."""
    block, _, warps = text.partition("x")
    return int(block), int(warps) if warps else None


def save(record: dict, path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(record, f, indent=2, default=str)


if __name__ == "__main__":
    main()
