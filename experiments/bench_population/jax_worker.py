"""One timed run of the scjax or the plain-`lax.scan` contender (a subprocess of
experiments/bench_population.py, so its peak RSS is its own).

    python jax_worker.py '{"contender": "scjax"|"scjax_exponential_euler"|"plain_jax",
                           "model": "hh"|"izh",
                           "dtype": "float64"|"float32", "n": N, "steps": T, "counts_out": PATH}'

Setup (trace + XLA compile, ahead of time where possible; otherwise a first call minus the
timed second) and one execution are timed separately; prints one JSON line with setup_s, run_s
and the path that ran.
"""

import functools
import json
import sys
import time

spec = json.loads(sys.argv[1])
setup_start = time.perf_counter()
import jax

if spec["dtype"] == "float64":
    jax.config.update("jax_enable_x64", True)  # this subprocess only
import jax.numpy as jnp
import numpy as np

DT = {"hh": 0.01, "izh": 0.5}


def currents(n, dtype):
    """I_i = 5 + 10 i / N, computed in float64 and rounded once (as the C reference)."""
    return jnp.asarray(5.0 + 10.0 * np.arange(n) / n, dtype)


def run_scjax(
    model_name, amplitude, dt, n_steps, integrator="rk4", sharded=False, expm1="xla", loop="xla"
):
    """The scjax contender: a compiled function of nothing returning per-neuron spike counts,
    and which API path it uses. New API (`scjax.stimulus`, `spikes="count"`) when present,
    else today's dense `[N, T]` current with `save_every=T`, counted from the raster.
    `integrator` is HH's (`"rk4"`, or `"exponential_euler"` for that contender); `sharded`
    places the amplitudes over every device with `scjax.shard_batch`; `expm1` and `loop` are
    `simulate_batch`'s options (passed only when they are not the default)."""
    import scjax

    if sharded:
        amplitude = scjax.shard_batch(amplitude)

    if model_name == "hh":
        model = scjax.HodgkinHuxley(integrator=integrator)
    else:
        model = scjax.Izhikevich.preset("RS")
    n = amplitude.shape[0]
    if hasattr(scjax, "stimulus"):
        options = {} if expm1 == "xla" else {"expm1": expm1}
        if loop != "xla":
            options["loop"] = loop

        def counts(amp):
            tr = scjax.simulate_batch(
                model,
                scjax.stimulus.Constant(amp),
                dt,
                n_steps=n_steps,
                spikes="count",
                save_every=n_steps,
                **options,
            )
            return tr.spike_count

        # Called as a user would, not under an outer jit: simulate_batch's noise_std check
        # needs a concrete model (inside jax.jit `jnp.asarray(model.noise_std)` is a tracer
        # and it raises). Its loop is compiled on the first call, so that call is the setup
        # (compile + one run, minus the timed second run).
        path = "stimulus.Constant + spikes='count'"
        if model_name == "hh":
            path += f", integrator={integrator!r}"
        if sharded:
            path += f", scjax.shard_batch over {len(jax.devices())} devices"
        for option, value in options.items():
            path += f", {option}={value!r}"
        return (lambda: counts(amplitude)), path, True
    else:
        # Shared parameters need an explicit y0 today (issue 9). Under jit the dense current is
        # traced, so simulate_batch skips its per-row Python validation; XLA builds the [N, T]
        # array inside the program.
        y0 = jnp.broadcast_to(model.initial_state().astype(amplitude.dtype), (n, model.n_state))

        def counts(amp):
            dense = jnp.broadcast_to(amp[:, None], (n, n_steps))
            tr = scjax.simulate_batch(model, dense, dt, y0=y0, save_every=n_steps)
            return tr.spikes.sum(-1)

        path = "dense [N,T] current, save_every=T, spikes.sum(-1) (jit)"
    try:
        compiled = jax.jit(counts).lower(amplitude).compile()
        return (lambda: compiled(amplitude)), path, False
    except (ValueError, TypeError) as error:  # validation needing concrete amplitudes
        compiled = jax.jit(lambda: counts(amplitude)).lower().compile()
        return compiled, f"{path} (closed-over amplitude: {type(error).__name__})", False


def exprel(z):
    small = jnp.abs(z) < 1e-6
    z_safe = jnp.where(small, 1.0, z)
    return jnp.where(small, 1.0 + z / 2.0 + z * z / 6.0, jnp.expm1(z_safe) / z_safe)


def hh_field(v, m, h, n, i):
    i_na = 120.0 * m * m * m * h * (v - 50.0)
    i_k = 36.0 * (n * n) * (n * n) * (v + 77.0)
    i_l = 0.3 * (v + 54.387)
    dv = i - i_na - i_k - i_l
    dm = 1.0 / exprel(-(v + 40.0) / 10.0) * (1.0 - m) - 4.0 * jnp.exp(-(v + 65.0) / 18.0) * m
    dh = (
        0.07 * jnp.exp(-(v + 65.0) / 20.0) * (1.0 - h)
        - 1.0 / (1.0 + jnp.exp(-(v + 35.0) / 10.0)) * h
    )
    dn = 0.1 / exprel(-(v + 55.0) / 10.0) * (1.0 - n) - 0.125 * jnp.exp(-(v + 65.0) / 80.0) * n
    return dv, dm, dh, dn


def run_plain(model_name, amplitude, dt, n_steps):
    """The plain contender: the same recurrence as separate [N] vectors, count in the carry."""
    dtype = amplitude.dtype
    n = amplitude.shape[0]
    dt = jnp.asarray(dt, dtype)
    if model_name == "hh":
        v0 = -65.0
        am, bm = 1.0 / np.expm1(2.5) * 2.5, 4.0
        ah, bh = 0.07, 1.0 / (1.0 + np.exp(3.0))
        an, bn = 0.1 / (np.expm1(1.0) / 1.0), 0.125
        init = [v0, am / (am + bm), ah / (ah + bh), an / (an + bn)]

        def step(carry, _):
            y, count = carry
            k1 = hh_field(*y, amplitude)
            k2 = hh_field(*(a + 0.5 * dt * b for a, b in zip(y, k1)), amplitude)
            k3 = hh_field(*(a + 0.5 * dt * b for a, b in zip(y, k2)), amplitude)
            k4 = hh_field(*(a + dt * b for a, b in zip(y, k3)), amplitude)
            y_next = tuple(
                a + dt / 6.0 * (b1 + 2.0 * b2 + 2.0 * b3 + b4)
                for a, b1, b2, b3, b4 in zip(y, k1, k2, k3, k4)
            )
            count = count + ((y[0] < 0.0) & (y_next[0] >= 0.0)).astype(jnp.int32)
            return (y_next, count), None
    else:
        init = [-65.0, 0.2 * -65.0]
        half = 0.5 * dt

        def step(carry, _):
            (v, u), count = carry
            vv = v + half * (0.04 * v * v + 5.0 * v + 140.0 - u + amplitude)
            vv = vv + half * (0.04 * vv * vv + 5.0 * vv + 140.0 - u + amplitude)
            uu = u + dt * (0.02 * (0.2 * vv - u))
            spike = vv >= 30.0
            return (
                (jnp.where(spike, -65.0, vv), jnp.where(spike, uu + 8.0, uu)),
                count + spike.astype(jnp.int32),
            ), None

    def counts():
        y0 = tuple(jnp.full(n, x, dtype) for x in init)
        (_, count), _ = jax.lax.scan(step, (y0, jnp.zeros(n, jnp.int32)), None, length=n_steps)
        return count

    return jax.jit(counts).lower().compile(), "lax.scan over separate [N] vectors", False


def main():
    amplitude = currents(spec["n"], getattr(jnp, spec["dtype"]))
    name = spec["contender"]
    if name == "plain_jax":
        build = run_plain
    else:  # scjax[_sharded][_blocked][_exponential_euler][_polynomial_expm1]
        build = functools.partial(
            run_scjax,
            integrator="exponential_euler" if "_exponential_euler" in name else "rk4",
            sharded="_sharded" in name,
            expm1="polynomial" if name.endswith("_polynomial_expm1") else "xla",
            loop="blocked" if "_blocked" in name else "xla",
        )
    fn, path, compiles_on_first_call = build(
        spec["model"], amplitude, DT[spec["model"]], spec["steps"]
    )
    first_s = 0.0
    if compiles_on_first_call:
        start = time.perf_counter()
        jax.block_until_ready(fn())
        first_s = time.perf_counter() - start
    setup_s = time.perf_counter() - setup_start
    start = time.perf_counter()
    counts = np.asarray(jax.block_until_ready(fn()))
    run_s = time.perf_counter() - start
    setup_s -= min(run_s, first_s)  # the warm-up call's run is not setup
    np.save(spec["counts_out"], counts.astype(np.int64))
    print(
        json.dumps(
            {"setup_s": setup_s, "run_s": run_s, "path": path, "jax_version": jax.__version__}
        )
    )


main()
