"""Noise stimuli in the XLA loop: JAX's threefry primitive against the same draws from the
key's words (`scjax.stimulus._threefry`, the draws the Pallas kernel makes too).

    python experiments/noise_draws.py            # N = 1e4, 3 interleaved rounds

Workloads: Izhikevich RS (2003 scheme, dt 0.5 ms, 1 000 steps) and Hodgkin-Huxley classic RK4
(dt 0.01 ms, 300 steps) driven by `OrnsteinUhlenbeck(mean=2…12 per neuron, std=3, tau=5)
+ WhiteNoise(std=1)`, `spikes="count"`, final state only, one XLA CPU device; float64 and
float32 (each dtype in its own subprocess: x64 is fixed at start-up). Both variants are
compiled first (`jax.jit` with the loop's own CPU options, `_loop.CPU_COMPILER_OPTIONS`), then
timed in rounds, their order alternating, and the median of the rounds reported. Counts and
final states must be identical: the draws are the same numbers.

Writes experiments/results/noise_draws.json.
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

    jax.config.update("jax_enable_x64", spec["dtype"] == "float64")  # this subprocess only
    import jax.numpy as jnp
    import numpy as np

    import scjax
    from scjax.stimulus import _threefry

    n, dtype = spec["n"], spec["dtype"]
    if spec["model"] == "hh":
        model, dt, steps = scjax.HodgkinHuxley(integrator="rk4"), 0.01, spec["hh_steps"]
    else:
        model, dt, steps = scjax.Izhikevich.preset("RS"), 0.5, spec["izh_steps"]
    model = jax.tree.map(lambda x: jnp.asarray(x, dtype), model)
    stimulus = scjax.stimulus.OrnsteinUhlenbeck(
        mean=jnp.linspace(2.0, 12.0, n, dtype=dtype), std=3.0, tau=5.0
    ) + scjax.stimulus.WhiteNoise(std=1.0)
    stimulus = jax.tree.map(lambda x: jnp.asarray(x, dtype), stimulus)
    key = jax.random.key(0)

    def run(stimulus, key):
        trajectory = scjax.simulate_batch(
            model, stimulus, dt, n_steps=steps, spikes="count", save_every=steps, key=key
        )
        return trajectory.spike_count, trajectory.y[:, -1]

    programs = {}
    for name, words in (("jax_random", False), ("threefry_words", True)):
        _threefry.WORDS_FOR_THREEFRY_KEYS = words  # read when the program is traced:
        jax.clear_caches()  # the loop's inner jit must trace again, not reuse the other's
        programs[name] = compiled_for_cpu(run, stimulus, key)
    _threefry.WORDS_FOR_THREEFRY_KEYS = True
    outputs, result = outputs_and_rates(programs, (stimulus, key), spec["repeats"], n * steps)
    counts_ref, y_ref = outputs["jax_random"]
    counts, y = outputs["threefry_words"]
    return {
        "steps": steps,
        "variants": result,
        "ratio_threefry_words_over_jax_random": (
            result["threefry_words"]["neuron_steps_per_s_median"]
            / result["jax_random"]["neuron_steps_per_s_median"]
        ),
        "counts_identical": bool(np.array_equal(counts, counts_ref)),
        "final_states_identical": bool(np.array_equal(y, y_ref, equal_nan=True)),
        "spike_total": int(counts_ref.sum()),
    }


def main() -> None:
    parser = experiment_arguments(__doc__, "noise_draws.json")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--izh-steps", type=int, default=1000)
    parser.add_argument("--hh-steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if answered_as_worker(args, worker):
        return
    document = new_document("experiments/noise_draws.py", neurons=args.n, repeats=args.repeats)
    for model in ("izh", "hh"):
        for dtype in ("float64", "float32"):
            spec = {
                "model": model,
                "dtype": dtype,
                "n": args.n,
                "izh_steps": args.izh_steps,
                "hh_steps": args.hh_steps,
                "repeats": args.repeats,
            }
            key = f"{model}/{dtype}"
            entry = document["results"][key] = run_worker(__file__, spec)
            print_rates(key, entry, "ratio_threefry_words_over_jax_random")
            save_document(document, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
