"""How far is `scjax.simulate` from a hand-written kernel? HH RK4, float32, one batch.

    python experiments/profile_loop_overhead.py [--neurons 1000] [--steps 4000]

(a) a hand-written RK4 on a state-major [4, N] array in one `lax.scan` (no spike logic, no
    model object): the ceiling for this XLA backend;
(b) the model's own `vector_field` under `jax.vmap` (batch-major [N, 4]) in a bare scan;
(c) `scjax.simulate` vmapped over g_Na, keeping only the final state (`save_every=T`);
(d) `scjax.simulate_batch` (state-major carry), same batch.
Writes experiments/results/profile_loop_overhead.json with neuron-steps/s of each.
"""

import argparse
import json
import os
import platform
import time

import jax
import jax.numpy as jnp

import scjax


def _time(f, *args, repeats=3):
    jax.block_until_ready(f(*args))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(f(*args))
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--neurons", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument(
        "--out",
        default=os.path.join(os.path.dirname(__file__), "results", "profile_loop_overhead.json"),
    )
    args = parser.parse_args()
    n, t = args.neurons, args.steps
    dt = jnp.float32(0.01)
    current = jnp.full(t, 10.0, jnp.float32)
    model = jax.tree.map(lambda p: jnp.asarray(p, jnp.float32), scjax.HodgkinHuxley())

    def rk4(vf, y, i):
        k1 = vf(y, i)
        k2 = vf(y + 0.5 * dt * k1, i)
        k3 = vf(y + 0.5 * dt * k2, i)
        k4 = vf(y + dt * k3, i)
        return y + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    state_major_vf = jax.vmap(
        lambda y, i: model.vector_field(0.0, y, i), in_axes=(1, None), out_axes=1
    )
    kernel_a = jax.jit(
        lambda y0, c: jax.lax.scan(lambda y, i: (rk4(state_major_vf, y, i), None), y0, c)[0]
    )
    y0_a = jnp.tile(model.initial_state()[:, None], (1, n))

    batch_vf = lambda y, i: model.vector_field(0.0, y, i)  # noqa: E731
    kernel_b = jax.jit(
        jax.vmap(
            lambda y0, c: jax.lax.scan(lambda y, i: (rk4(batch_vf, y, i), None), y0, c)[0],
            in_axes=(0, None),
        )
    )
    y0_b = y0_a.T

    g_na = jnp.linspace(108.0, 132.0, n, dtype=jnp.float32)
    kernel_c = jax.jit(
        lambda g, c: jax.vmap(
            lambda gg: scjax.simulate(
                scjax.HodgkinHuxley(g_na=gg, integrator="rk4"), c, 0.01, save_every=t
            ).y[-1]
        )(g)
    )

    kernel_d = jax.jit(
        lambda g, c: scjax.simulate_batch(
            scjax.HodgkinHuxley(g_na=g, integrator="rk4"), c, 0.01, save_every=t
        ).y[:, -1]
    )

    rates = {
        "a_hand_written_state_major": n * t / _time(kernel_a, y0_a, current),
        "b_model_vector_field_vmapped": n * t / _time(kernel_b, y0_b, current),
        "c_scjax_simulate_vmapped": n * t / _time(kernel_c, g_na, current),
        "d_scjax_simulate_batch": n * t / _time(kernel_d, g_na, current),
    }
    for k, v in rates.items():
        print(f"{k:32s} {v:.3g} neuron-steps/s")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(
            {
                "neurons": n,
                "steps": t,
                "dtype": "float32",
                "machine": {
                    "platform": platform.platform(),
                    "cpu_count": os.cpu_count(),
                    "devices": [str(d) for d in jax.devices()],
                },
                "neuron_steps_per_s": rates,
            },
            f,
            indent=2,
        )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
