"""`scjax reference [STEPS]`: solve the systems of the reference suite (`scjax.adaptive.SYSTEMS`)
with the adaptive reference (`scjax.adaptive.solve`, Tsit5 at rtol 1e-8, atol 1e-10) over STEPS
samples of 0.1 ms and print, per system, the cold time (tracing, compilation and one solve),
the warm median over `--repeats` further solves, the accepted steps and the spike count.

The comparison with the seed's Julia timings is an experiment:
experiments/reference_suite_timing.py.
"""

import statistics
import time

from ._common import UsageError, write_json

HELP = "solve the reference suite and print per-system timings"
X64 = True
#: sample spacing of the suite's save grid, ms (the seed's dense output)
SAVEAT_MS = 0.1


def configure(parser) -> None:
    parser.add_argument(
        "steps",
        nargs="?",
        type=int,
        default=1000,
        help="samples of 0.1 ms per system (>= 1, default 1000)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=20,
        help="warm solves per system whose median is reported (>= 1)",
    )
    parser.add_argument(
        "--systems", default=None, help="comma-separated subset of the suite (default: all)"
    )
    parser.add_argument("--out", default=None, help="write the table as JSON here")


def _systems(spec: str | None) -> list[str]:
    from scjax import adaptive

    if spec is None:
        return list(adaptive.SYSTEMS)
    names = [s.strip() for s in spec.split(",")]
    unknown = [s for s in names if s not in adaptive.SYSTEMS]
    if unknown or not names:
        raise UsageError(
            f"argument --systems: {unknown[0] if unknown else spec!r} is not a "
            f"system of the suite (choose from {', '.join(adaptive.SYSTEMS)})"
        )
    return names


def run_suite(steps: int, repeats: int, names: list[str], *, log=print) -> dict:
    """Solve and time each named system; returns the table (one row per system)."""
    import diffrax
    import jax

    from scjax import adaptive

    def timed_solve(model, current):
        start = time.perf_counter()
        sol = jax.block_until_ready(
            adaptive.solve(model, (0.0, steps * SAVEAT_MS), current, saveat=SAVEAT_MS)
        )
        return sol, time.perf_counter() - start

    t_suite = time.perf_counter()
    rows = []
    for name in names:
        system = adaptive.SYSTEMS[name]
        model = system.make()
        sol, cold = timed_solve(model, system.current)
        warm = [timed_solve(model, system.current)[1] for _ in range(repeats)]
        row = {
            "system": name,
            "n_state": model.n_state,
            "cold_s": cold,
            "warm_median_ms": 1e3 * statistics.median(warm),
            "warm_min_ms": 1e3 * min(warm),
            "n_steps": int(sol.n_steps),
            "n_spikes": int(sol.n_spikes),
            "result": sol.result_code(),
            "final_state_0": float(sol.trajectory.y[-1, 0]),
        }
        rows.append(row)
        log(
            f"{name:20s} {row['warm_median_ms']:9.3f} ms/solve  (cold {cold:6.2f} s, "
            f"{row['n_steps']:6d} steps, {row['n_spikes']:3d} spikes)"
        )
    suite_s = time.perf_counter() - t_suite
    log(f"{'suite (cold, all)':20s} {suite_s:9.2f} s wall, JIT included")
    return {
        "steps": steps,
        "repeats": repeats,
        "saveat_ms": SAVEAT_MS,
        "solver": type(diffrax.Tsit5()).__name__,
        "rtol": 1e-8,
        "atol": 1e-10,
        "cold_suite_s": suite_s,
        "systems": rows,
    }


def run(args) -> int:
    if args.steps < 1:
        raise UsageError(f"argument steps: must be >= 1, got {args.steps}")
    if args.repeats < 1:
        raise UsageError(f"argument --repeats: must be >= 1, got {args.repeats}")
    names = _systems(args.systems)
    table = run_suite(args.steps, args.repeats, names, log=lambda line: print(line, flush=True))
    if args.out:
        write_json(args.out, table)
        print(f"wrote {args.out}")
    return 0
