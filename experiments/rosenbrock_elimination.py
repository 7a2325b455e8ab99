"""A batch of Rosenbrock steps in the XLA loop: the LU factorisation (`linear_solve="lu"`,
the default) against the elimination written out on scalars (`"elimination"`, opt-in).

    python experiments/rosenbrock_elimination.py      # N = 4096, 3 interleaved rounds

Hodgkin–Huxley (4 states) with per-neuron constant currents 2…30 µA/cm², float64,
`spikes="count"`, final state only, one XLA CPU device, for RosenbrockEuler (dt 0.05 ms, 200
steps), Rosenbrock2 and Rodas5P (dt 0.02 ms, 200 steps; ROS2's upstroke limit needs it). With
"lu" every step factorises the batch's 4 × 4 matrices with one batched `lu` (LAPACK's getrf
per matrix) and solves each stage with triangular solves; with "elimination" the same
partial-pivoting algorithm is part of the step's elementwise arithmetic on [B] vectors. Both
programs are compiled first (`jax.jit` with the loop's CPU options), timed in rounds in
alternating order, medians reported, and compared: spike counts equal, final states to
rounding (largest |ΔV|).

Writes experiments/results/rosenbrock_elimination.json.
"""

from _worker_process import (
    answered_as_worker,
    experiment_arguments,
    interleaved_seconds,
    new_document,
    rates,
    run_worker,
    save_document,
)


def worker(spec: dict) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)  # this subprocess only
    import jax.numpy as jnp
    import numpy as np

    import scjax
    from scjax.simulation._loop import CPU_COMPILER_OPTIONS

    n, steps = spec["n"], spec["steps"]
    solver_class = getattr(scjax.solvers, spec["solver"])
    model = scjax.HodgkinHuxley(g_na=jnp.linspace(110.0, 130.0, n))
    stimulus = scjax.stimulus.Constant(jnp.linspace(2.0, 30.0, n))

    def program(linear_solve):
        solver = solver_class(linear_solve=linear_solve)

        def run(model, stimulus):
            trajectory = scjax.simulate_batch(
                model, stimulus, spec["dt"], n_steps=steps, spikes="count",
                save_every=steps, solver=solver,
            )  # fmt: skip
            return trajectory.spike_count, trajectory.y[:, -1]

        return jax.jit(run, compiler_options=CPU_COMPILER_OPTIONS).lower(model, stimulus).compile()

    programs = {name: program(name) for name in ("lu", "elimination")}
    outputs = {name: jax.block_until_ready(p(model, stimulus)) for name, p in programs.items()}
    counts_lu, y_lu = (np.asarray(x) for x in outputs["lu"])
    counts, y = (np.asarray(x) for x in outputs["elimination"])
    calls = {
        name: lambda p=p: jax.block_until_ready(p(model, stimulus)) for name, p in programs.items()
    }
    variants = rates(interleaved_seconds(calls, spec["repeats"]), n * steps)
    return {
        "dt": spec["dt"],
        "steps": steps,
        "variants": variants,
        "ratio_elimination_over_lu": (
            variants["elimination"]["neuron_steps_per_s_median"]
            / variants["lu"]["neuron_steps_per_s_median"]
        ),
        "counts_equal": bool(np.array_equal(counts, counts_lu)),
        "final_v_max_abs_diff_mV": float(np.max(np.abs(y[:, 0] - y_lu[:, 0]))),
        "final_state_max_abs_diff": float(np.max(np.abs(y - y_lu))),
        "spike_total": int(counts_lu.sum()),
    }


def main() -> None:
    parser = experiment_arguments(__doc__, "rosenbrock_elimination.json")
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if answered_as_worker(args, worker):
        return
    document = new_document(
        "experiments/rosenbrock_elimination.py", neurons=args.n, repeats=args.repeats
    )
    for solver, dt in (("RosenbrockEuler", 0.05), ("Rosenbrock2", 0.02), ("Rodas5P", 0.02)):
        spec = {"solver": solver, "dt": dt, "n": args.n, "steps": args.steps}
        spec["repeats"] = args.repeats
        entry = document["results"][solver] = run_worker(__file__, spec)
        print(
            solver,
            {
                k: round(v["neuron_steps_per_s_median"] / 1e6, 2)
                for k, v in entry.get("variants", {}).items()
            },
            entry.get("ratio_elimination_over_lu"),
            entry.get("counts_equal"),
            entry.get("final_v_max_abs_diff_mV"),
            flush=True,
        )
        save_document(document, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
