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
    compiled_for_cpu,
    experiment_arguments,
    new_document,
    outputs_and_rates,
    print_rates,
    run_worker,
    save_document,
)


def worker(spec: dict) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)  # this subprocess only
    import jax.numpy as jnp
    import numpy as np

    import scjax

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

        return compiled_for_cpu(run, model, stimulus)

    programs = {name: program(name) for name in ("lu", "elimination")}
    outputs, variants = outputs_and_rates(programs, (model, stimulus), spec["repeats"], n * steps)
    counts_lu, y_lu = outputs["lu"]
    counts, y = outputs["elimination"]
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
        print_rates(
            solver, entry, "ratio_elimination_over_lu", "counts_equal", "final_v_max_abs_diff_mV"
        )
        save_document(document, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
