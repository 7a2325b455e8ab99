"""simulate_batch(loop="pallas"): the Pallas kernel equals the XLA loop bit for bit.

Run in Pallas interpret mode (the kernel as ordinary XLA operations on the CPU): the same
primitives on the same values as the `lax.scan` loop, so spike counts, saved and final states
must be identical. Blocks of 8 neurons and B = 13 exercise the padding of the last block;
a few hundred steps keep interpret mode fast.
"""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scjax
from scjax.simulation import PallasLoop, _pallas
from scjax.simulation._pallas import pallas_lowers

from .helpers import assert_counts_spread as _spread
from .helpers import assert_trajectories_identical as _assert_bitwise

B = 13  # not a multiple of the block: the last block is padded
LOOP = PallasLoop(block_size=8, interpret=True)


def _both(model, drive, dt, **kwargs):
    kwargs.setdefault("spikes", "count")
    xla = scjax.simulate_batch(model, drive, dt, **kwargs)
    pallas = scjax.simulate_batch(model, drive, dt, loop=LOOP, **kwargs)
    return xla, pallas


def _cast(tree, dtype):
    return jax.tree.map(lambda x: jnp.asarray(x, dtype), tree)


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_izhikevich_dense_current_per_neuron(dtype):
    # Half-step Euler (the default); per-neuron a and [B, T] current rows; final state only.
    model = scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, B, dtype=dtype))
    current = jnp.linspace(4.0, 14.0, B, dtype=dtype)[:, None] + jnp.zeros((1, 300), dtype)
    xla, pallas = _both(model, current, 0.5, save_every=300)
    _assert_bitwise(xla, pallas)
    _spread(xla.spike_count)
    assert pallas.y.dtype == dtype and pallas.y.shape == (B, 2, 2)


def test_izhikevich_shared_trace_saved_states_and_record():
    # A shared [T] ramp (one scalar per step), the state saved every 30 steps, v only.
    model = scjax.Izhikevich(d=jnp.linspace(2.0, 8.0, B))
    current = jnp.linspace(0.0, 20.0, 300)
    xla, pallas = _both(model, current, 0.5, save_every=30, record=("v",))
    _assert_bitwise(xla, pallas)
    assert pallas.y.shape == (B, 11, 1)
    assert np.asarray(xla.spike_count).max() > 0


def test_izhikevich_stimulus_objects_in_the_kernel():
    # Constant [B] + Pulse + Sine, evaluated inside the kernel at t_n = t0 + n·dt.
    stimulus = (
        scjax.stimulus.Constant(jnp.linspace(2.0, 12.0, B))
        + scjax.stimulus.Pulse(onset=40.0, duration=30.0, amplitude=6.0)
        + scjax.stimulus.Sine(amplitude=3.0, frequency=20.0)
    )
    xla, pallas = _both(scjax.Izhikevich(), stimulus, 0.5, n_steps=300, save_every=100, t0=5.0)
    _assert_bitwise(xla, pallas)
    _spread(xla.spike_count)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_hodgkin_huxley_rk4_constant_per_neuron(dtype):
    model = scjax.HodgkinHuxley(integrator="rk4", g_na=jnp.linspace(100.0, 140.0, B))
    stimulus = scjax.stimulus.Constant(jnp.linspace(2.0, 30.0, B))
    xla, pallas = _both(_cast(model, dtype), _cast(stimulus, dtype), 0.05, n_steps=400)
    _assert_bitwise(xla, pallas)
    _spread(xla.spike_count)
    assert pallas.y.dtype == dtype and pallas.y.shape == (B, 401, 4)


def test_hodgkin_huxley_sampled_rows_plus_constant():
    # A per-neuron Sampled [B, T] trace is read one row per step (a block over time).
    rows = jnp.linspace(0.0, 25.0, B)[:, None] * jnp.linspace(0.5, 1.5, 400)[None, :]
    stimulus = scjax.stimulus.Sampled(rows) + scjax.stimulus.Constant(2.0)
    model = scjax.HodgkinHuxley(integrator="rk4")
    xla, pallas = _both(model, stimulus, 0.05, n_steps=400, save_every=400)
    _assert_bitwise(xla, pallas)
    _spread(xla.spike_count)


@pytest.mark.parametrize(
    ("model", "amplitudes", "dt"),
    [
        (scjax.AdEx(a=jnp.linspace(0.0, 4.0, 5)), (300.0, 900.0), 0.1),
        (scjax.LIF(), (10.0, 60.0), 0.1),
        (scjax.HodgkinHuxley(integrator="exponential_euler"), (2.0, 30.0), 0.05),
    ],
    ids=["adex_euler", "lif_euler", "hh_exponential_euler"],
)
def test_other_models_and_solvers(model, amplitudes, dt):
    # Any model whose step is elementwise runs the XLA loop's own step in the kernel.
    stimulus = scjax.stimulus.Constant(jnp.linspace(*amplitudes, 5))
    xla, pallas = _both(model, stimulus, dt, n_steps=300, save_every=300)
    _assert_bitwise(xla, pallas)
    assert np.asarray(xla.spike_count).max() > 0


def test_batch_smaller_than_a_block_and_model_noise():
    # B = 3 < block: one padded block. Model noise is drawn outside the loop into the dense
    # current, so the kernel sees the same samples.
    model = scjax.Izhikevich(noise_std=jnp.asarray([0.0, 2.0, 4.0]))
    current = jnp.full((3, 200), 10.0)
    xla, pallas = _both(model, current, 0.5, key=jax.random.key(3), save_every=200)
    _assert_bitwise(xla, pallas)
    assert np.asarray(xla.spike_count).min() > 0


@pytest.mark.parametrize("events", ["end_of_step", "in_step"])
def test_divergence_is_flagged_and_raised(events):
    model = scjax.LIF(r_m=10.0)  # R_m·I = 1e309 overflows in one step; the reset hides it
    current = np.stack([np.full(20, 2.0), np.full(20, 1e308)])
    y0 = np.full((2, 1), -65.0)
    xla, pallas = _both(model, current, 0.1, y0=y0, throw=False, events=events)
    _assert_bitwise(xla, pallas)
    np.testing.assert_array_equal(np.asarray(pallas.diverged), [False, True])
    with pytest.raises(Exception, match="non-finite"):
        jax.block_until_ready(
            scjax.simulate_batch(
                model, current, 0.1, y0=y0, spikes="count", loop=LOOP, events=events
            ).y
        )


def test_under_jit_with_traced_parameters():
    current = jnp.full(200, 10.0)

    @jax.jit
    def counts(a):
        model = scjax.Izhikevich(a=a)
        return scjax.simulate_batch(model, current, 0.5, spikes="count", loop=LOOP).spike_count

    a = jnp.linspace(0.02, 0.1, B)
    xla = scjax.simulate_batch(scjax.Izhikevich(a=a), current, 0.5, spikes="count").spike_count
    np.testing.assert_array_equal(np.asarray(counts(a)), np.asarray(xla))


def _uses_pallas(loop, **kwargs) -> bool:
    model = scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, B))
    closed = jax.make_jaxpr(
        lambda: scjax.simulate_batch(model, jnp.full(20, 10.0), 0.5, loop=loop, **kwargs).y
    )()
    return "pallas_call" in str(closed)


def test_auto_takes_xla_off_gpu_and_default_is_xla():
    assert jax.default_backend() == "cpu"
    assert _uses_pallas(LOOP, spikes="count")
    assert _uses_pallas("pallas", spikes="count")  # interpret mode on the CPU by default
    assert not _uses_pallas("auto", spikes="count")
    assert not _uses_pallas("xla", spikes="count")
    assert not _uses_pallas("auto")  # raster: unsupported, XLA whatever the backend
    # The default: no pallas_call, the historical loop.
    model = scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, B))
    closed = jax.make_jaxpr(lambda: scjax.simulate_batch(model, jnp.full(20, 10.0), 0.5).y)()
    assert "pallas_call" not in str(closed)


def test_lowering_probe_of_auto():
    # The probe `loop="auto"` runs on a GPU: on the CPU a compiled (non-interpret) kernel
    # does not lower, the interpreted one does.
    from scjax.simulation._recording import make_recording
    from scjax.solvers import solver_from_name

    model = _cast(scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, B)), jnp.float32)
    solver = solver_from_name(model.integrator, fast_mask=model.fast_mask)
    axes = jax.tree.map(lambda x: 0 if x.ndim == 1 else None, model)
    recording = make_recording(model, 10, "count", None, 10, 64)
    args = (model, solver, jnp.ones((B, 10), jnp.float32), jnp.float32(0.5))
    args += (jnp.zeros((B, 2), jnp.float32), jnp.float32(0.0), None, 10, recording, True, axes)
    assert pallas_lowers((*args, PallasLoop(8, interpret=True)))
    assert not pallas_lowers((*args, PallasLoop(8, interpret=False)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            dict(solver=scjax.solvers.RosenbrockEuler(), check_step=False),
            r"loop='pallas' runs a Rosenbrock step with linear_solve='elimination' only",
        ),
    ],
)
def test_refusals_name_loop(kwargs, match):
    kwargs.setdefault("spikes", "count")
    model = scjax.HodgkinHuxley(g_na=jnp.linspace(100.0, 140.0, 3))
    with pytest.raises(ValueError, match=match):
        scjax.simulate_batch(model, jnp.full(20, 10.0), 0.01, loop=LOOP, **kwargs)
    # "auto" falls back to the XLA loop instead of refusing (on any backend).
    scjax.simulate_batch(model, jnp.full(20, 10.0), 0.01, loop="auto", **kwargs)


# --- derivatives: the XLA loop's -------------------------------------------------------------


def _hodgkin_huxley_loss(loop, surrogate=None):
    """Mean saved membrane potential of a noisy HH batch as a function of (g_na [B], the
    constant current [B]): a smooth loss, differentiable without a surrogate."""

    def loss(g_na, amplitude):
        stimulus = scjax.stimulus.Constant(amplitude) + scjax.stimulus.OrnsteinUhlenbeck(
            mean=0.0, std=1.0, tau=2.0
        )
        trajectory = scjax.simulate_batch(
            scjax.HodgkinHuxley(g_na=g_na),
            stimulus,
            0.01,
            n_steps=200,
            save_every=20,
            key=jax.random.key(3),
            surrogate=surrogate,
            loop=loop,
        )
        return jnp.mean(trajectory.y[:, :, 0]) + 0.1 * jnp.mean(trajectory.y[:, -1, 1])

    return loss


_G_NA, _AMPLITUDE = jnp.linspace(100.0, 140.0, B), jnp.linspace(2.0, 12.0, B)


def test_gradients_through_the_kernel_are_the_xla_loops():
    # jax.grad of a run on loop="pallas": the derivative rule is the XLA loop's JVP, so the
    # gradient equals loop="xla"'s bit for bit, and the kernel is not in the grad's program.
    kernel, xla = _hodgkin_huxley_loss(LOOP), _hodgkin_huxley_loss("xla")
    grads = jax.grad(kernel, argnums=(0, 1))(_G_NA, _AMPLITUDE)
    expected = jax.grad(xla, argnums=(0, 1))(_G_NA, _AMPLITUDE)
    for g, e in zip(grads, expected):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(e))
        assert np.all(np.asarray(e) != 0)
    assert "pallas_call" in str(jax.make_jaxpr(kernel)(_G_NA, _AMPLITUDE))
    assert "pallas_call" not in str(jax.make_jaxpr(jax.grad(kernel))(_G_NA, _AMPLITUDE))
    # Forward mode too: the primal is the XLA loop's, equal to the kernel's.
    value, tangent = jax.jvp(lambda g: kernel(g, _AMPLITUDE), (_G_NA,), (jnp.ones(B),))
    np.testing.assert_array_equal(np.asarray(value), np.asarray(kernel(_G_NA, _AMPLITUDE)))
    np.testing.assert_allclose(float(tangent), float(jnp.sum(grads[0])), rtol=1e-12)


def test_gradient_matches_central_differences_of_the_kernel():
    # The gradient is the derivative of what the kernel computes: central differences of
    # the kernel's own forward runs (interpret mode, f64) along a random direction.
    kernel = _hodgkin_huxley_loss(LOOP)
    direction = jax.random.normal(jax.random.key(0), (B,))
    h = 1e-4
    up = kernel(_G_NA + h * direction, _AMPLITUDE)
    down = kernel(_G_NA - h * direction, _AMPLITUDE)
    finite = (float(up) - float(down)) / (2 * h)
    directional = float(jnp.dot(jax.grad(kernel)(_G_NA, _AMPLITUDE), direction))
    np.testing.assert_allclose(directional, finite, rtol=1e-6)


def test_surrogate_forward_in_the_kernel_and_its_gradient():
    # A surrogate changes derivatives only: the kernel's values (hard threshold) in the XLA
    # loop's schema for a surrogate (float spike signal and count), the gradient the XLA
    # loop's. Izhikevich + constant current: the count's gradient is the surrogate's.
    model = scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, B))
    current = jnp.linspace(4.0, 14.0, B)[:, None] + jnp.zeros((1, 300))
    for spikes in ("count", "raster"):
        xla, pallas = _both(model, current, 0.5, spikes=spikes, surrogate="fast_sigmoid")
        _assert_bitwise(xla, pallas)
        assert pallas.spike_count.dtype == jnp.float64
    _spread(xla.spike_count)

    def total_count(scale, loop):
        run = scjax.simulate_batch(
            model, scale * current, 0.5, spikes="count", surrogate="fast_sigmoid", loop=loop
        )
        return jnp.sum(run.spike_count)

    gradient = jax.grad(total_count)(1.0, LOOP)
    assert float(gradient) > 0  # more current, more spikes (through the surrogate)
    assert float(gradient) == float(jax.grad(total_count)(1.0, "xla"))


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_noise_stimuli_draw_inside_the_kernel(dtype):
    # OU (state: key and value) + white noise (state: key) + a per-neuron constant: the
    # kernel draws JAX's threefry normals itself, from each neuron's split(key, B)[i].
    noise = scjax.stimulus.OrnsteinUhlenbeck(
        mean=jnp.linspace(2.0, 10.0, B), std=3.0, tau=5.0
    ) + scjax.stimulus.WhiteNoise(std=1.5, mean=1.0)
    stimulus = _cast(noise, dtype)
    model = _cast(scjax.Izhikevich(), dtype)
    xla, pallas = _both(model, stimulus, 0.5, n_steps=300, save_every=100, key=jax.random.key(5))
    _assert_bitwise(xla, pallas)
    _spread(xla.spike_count)
    # The draws matter: another key moves the counts.
    other = scjax.simulate_batch(
        model, stimulus, 0.5, n_steps=300, spikes="count", key=jax.random.key(6), loop=LOOP
    )
    assert not np.array_equal(np.asarray(other.spike_count), np.asarray(pallas.spike_count))


def test_noise_in_the_kernel_with_legacy_keys():
    # A legacy uint32 key (jax.random.PRNGKey): its words enter the kernel as they are.
    stimulus = scjax.stimulus.WhiteNoise(std=jnp.linspace(0.5, 3.0, B), mean=jnp.linspace(4, 14, B))
    key = jax.random.PRNGKey(2)
    xla, pallas = _both(scjax.Izhikevich(), stimulus, 0.5, n_steps=400, save_every=100, key=key)
    _assert_bitwise(xla, pallas)
    _spread(xla.spike_count)


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_spike_times_in_the_kernel(dtype):
    # The first K spike times per neuron at t_{n+1}, inf after the last; K = 5 is exceeded
    # by the faster neurons (spike_overflow), not by the slower ones.
    model = _cast(scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, B)), dtype)
    stimulus = _cast(scjax.stimulus.Constant(jnp.linspace(4.0, 16.0, B)), dtype)
    xla, pallas = _both(
        model, stimulus, 0.5, n_steps=400, save_every=400, spikes="times", max_spikes=5, t0=2.0
    )
    _assert_bitwise(xla, pallas)
    _spread(xla.spike_count)
    overflow = np.asarray(pallas.spike_overflow)
    assert overflow.any() and not overflow.all()
    assert np.isinf(np.asarray(pallas.spike_time_buffer)).any()


def test_raster_in_the_kernel():
    model = scjax.Izhikevich.preset("FS")
    stimulus = scjax.stimulus.Constant(jnp.linspace(2.0, 20.0, B)) + scjax.stimulus.WhiteNoise(2.0)
    xla, pallas = _both(
        model, stimulus, 0.5, n_steps=300, save_every=100, spikes="raster", key=jax.random.key(1)
    )
    _assert_bitwise(xla, pallas)
    assert pallas.spikes.shape == (B, 300) and pallas.spikes.dtype == bool
    np.testing.assert_array_equal(np.asarray(pallas.spikes).sum(axis=1), pallas.spike_count)
    _spread(xla.spike_count)


@pytest.mark.parametrize(
    "solver", [scjax.solvers.RosenbrockEuler, scjax.solvers.Rosenbrock2, scjax.solvers.Rodas5P]
)
def test_rosenbrock_steps_with_elimination_in_the_kernel(solver):
    # The linearly implicit step with its n × n solve written out on scalars
    # (linear_solve="elimination"): elementwise, so it runs in the kernel, bit for bit the
    # XLA loop's with the same solver.
    model = scjax.HodgkinHuxley(g_na=jnp.linspace(100.0, 140.0, B))
    stimulus = scjax.stimulus.Constant(jnp.linspace(2.0, 30.0, B))
    xla, pallas = _both(
        model, stimulus, 0.02, n_steps=250, solver=solver(linear_solve="elimination")
    )
    _assert_bitwise(xla, pallas)
    assert np.asarray(xla.spike_count).max() > 0


# --- in-step events in the kernel --------------------------------------------------------------


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_in_step_events_in_the_kernel(dtype, monkeypatch):
    # Spike times located inside the step (a resetting model: Newton on the solver's own
    # step, reset at the root, the rest of the step; a crossing model: the located upward
    # crossing): the kernel runs the XLA loop's step without control flow (both sides of
    # each branch, the iterations unrolled), so the same values bit for bit.
    izhikevich = _cast(scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, B)), dtype)
    drive = _cast(scjax.stimulus.Constant(jnp.linspace(4.0, 16.0, B)), dtype)
    kwargs = dict(n_steps=200, save_every=50, spikes="times", max_spikes=6, t0=1.0)
    xla, pallas = _both(izhikevich, drive, 0.5, events="in_step", **kwargs)
    _assert_bitwise(xla, pallas)
    _spread(xla.spike_count)

    # A block runs the root find only in steps where one of its lanes crosses (a cond on
    # one value per block); without that skip, the same values too.
    def kernel_primitives(**kwargs):
        closed = jax.make_jaxpr(
            lambda d: scjax.simulate_batch(izhikevich, d, 0.5, loop=LOOP, **kwargs).y
        )(drive)
        return set().union(*map(_pallas._primitives, _pallas._kernel_jaxprs(closed.jaxpr)))

    assert "cond" in kernel_primitives(events="in_step", **kwargs)
    assert "cond" not in kernel_primitives(**kwargs)
    monkeypatch.setattr(_pallas, "SKIP_QUIET_BLOCKS", False)
    kwargs["n_steps"] = 150  # another signature: traced again, without the skip
    assert "cond" not in kernel_primitives(events="in_step", **kwargs)
    xla, pallas = _both(izhikevich, drive, 0.5, events="in_step", **kwargs)
    _assert_bitwise(xla, pallas)
    monkeypatch.undo()
    # Located, not at the end of a step: the times are off the grid t0 + n·dt.
    times = np.asarray(pallas.spike_time_buffer)
    on_grid = np.isclose((times[np.isfinite(times)] - 1.0) / 0.5 % 1.0, 0.0, atol=1e-6)
    assert not on_grid.any()
    if dtype == jnp.float64:
        hh = scjax.HodgkinHuxley(integrator="rk4")
        drive = scjax.stimulus.Constant(jnp.linspace(4.0, 30.0, B))
        xla, pallas = _both(hh, drive, 0.05, n_steps=300, events="in_step", spikes="times")
        _assert_bitwise(xla, pallas)
        assert np.asarray(xla.spike_count).max() > 0


def test_several_spikes_per_step_in_the_kernel_match_the_analytic_lif_train():
    # LIF from V_rest with V_reset = V_rest fires at t_k = k·τ·ln(RI/(RI − 15)); with
    # I = 1000 nA the interval (0.30 ms) is shorter than the step (1 ms): up to 4 located
    # spikes per step, each written to its own row of the times buffer by the kernel.
    currents = jnp.array([1000.0, 600.0, 300.0, 40.0, 16.0])
    events = scjax.simulation.InStepEvents(max_spikes_per_step=4)
    n, dt = 20, 1.0
    xla, pallas = _both(
        scjax.LIF(),
        scjax.stimulus.Constant(currents),
        dt,
        n_steps=n,
        solver=scjax.solvers.RK4(),
        spikes="times",
        max_spikes=128,
        events=events,
    )
    _assert_bitwise(xla, pallas)
    for i, current in enumerate(np.asarray(currents)):
        isi = 20.0 * np.log(current / (current - 15.0))
        exact = isi * np.arange(1, int(n * dt / isi) + 1)
        times = np.asarray(pallas.spike_time_buffer[i])
        times = times[np.isfinite(times)]
        assert times.size == exact.size
        # RK4 at dt = 1 ms with τ = 20 ms: the located times' error grows with the time
        # since the last reset (≈ 1e-6 at one interval per step).
        np.testing.assert_allclose(times, exact, rtol=0, atol=1e-7 if isi < 0.5 else 2e-6)
    assert int(pallas.spike_count[0]) == 66  # 3.3 spikes per step
    # The raster marks each step with a spike once (several spikes, one row).
    xla, pallas = _both(
        scjax.LIF(), scjax.stimulus.Constant(currents), dt, n_steps=n, spikes="raster",
        solver=scjax.solvers.RK4(), events=events,
    )  # fmt: skip
    _assert_bitwise(xla, pallas)
    assert np.asarray(pallas.spikes)[0].all()


def test_gradient_of_located_spike_times_through_the_kernel_is_the_xla_loops():
    # Exact event gradients (through the located time): the kernel's derivative rule is the
    # XLA loop's JVP with the same events, so the gradients are equal bit for bit.
    def first_times(a, loop):
        run = scjax.simulate_batch(
            scjax.Izhikevich(a=a),
            scjax.stimulus.Constant(jnp.linspace(6.0, 14.0, 5)),
            0.5,
            n_steps=120,
            spikes="times",
            max_spikes=4,
            events="in_step",
            loop=loop,
        )
        return jnp.sum(jnp.where(jnp.isfinite(run.spike_time_buffer), run.spike_time_buffer, 0))

    a = jnp.linspace(0.02, 0.1, 5)
    gradient = jax.grad(first_times)(a, LOOP)
    np.testing.assert_array_equal(np.asarray(gradient), np.asarray(jax.grad(first_times)(a, "xla")))
    assert np.all(np.asarray(gradient) != 0)


def _sharded_case():
    """18 noisy Izhikevich neurons (9 per host device: padded to 2 blocks of 8), spike times."""
    n = 18
    model = scjax.Izhikevich(d=jnp.linspace(2.0, 8.0, n))
    stimulus = scjax.stimulus.Constant(jnp.linspace(3.0, 12.0, n)) + scjax.stimulus.WhiteNoise(
        std=2.0
    )
    options = dict(n_steps=200, save_every=50, spikes="times", max_spikes=4, key=jax.random.key(8))
    return model, stimulus, options


def test_batch_sharded_over_devices_runs_per_device():
    # scjax.shard_batch over the 2 host devices: each device runs the kernel on its own
    # 9 neurons (padded to 2 blocks of 8), the noise from the whole batch's keys; the
    # results equal the XLA loop on the unsharded batch and stay sharded.
    assert len(jax.devices()) == 2  # conftest's host devices
    model, stimulus, options = _sharded_case()
    xla = scjax.simulate_batch(model, stimulus, 0.5, **options)
    pallas = scjax.simulate_batch(*scjax.shard_batch((model, stimulus)), 0.5, loop=LOOP, **options)
    _assert_bitwise(xla, pallas)
    _spread(xla.spike_count)
    assert len(pallas.spike_count.sharding.device_set) == 2
    assert len(pallas.y.sharding.device_set) == 2
    assert len(pallas.spike_time_buffer.sharding.device_set) == 2


def test_under_jit_a_sharded_batch_is_split_by_the_partitioner():
    # Under a user's jax.jit the placement is unknown when the kernel is traced; the kernel
    # is one custom-partitioned operation, so XLA runs it on each device's rows: no array
    # moves between devices (the only collectives are scalar reductions of the finiteness
    # check), results sharded like the inputs, equal to the XLA loop.
    model, stimulus, options = _sharded_case()
    xla = scjax.simulate_batch(model, stimulus, 0.5, **options)
    run = jax.jit(lambda m, s: scjax.simulate_batch(m, s, 0.5, loop=LOOP, **options))
    placed = scjax.shard_batch((model, stimulus))
    pallas = run(*placed)
    _assert_bitwise(xla, pallas)
    _spread(xla.spike_count)
    for out in (pallas.spike_count, pallas.y, pallas.spike_time_buffer):
        assert out.sharding.spec[0] == "batch", out.sharding
    program = run.lower(*placed).compile().as_text()
    collective = r"= (\S+) (all-gather|all-reduce|all-to-all|collective-permute|reduce-scatter)\("
    shapes = [m[0] for m in re.findall(collective, program)]
    assert all(re.fullmatch(r"\w+\[\]", shape) for shape in shapes), shapes
    # Unsharded inputs under jit: the same values, on one device.
    _assert_bitwise(xla, run(model, stimulus))


def test_vmap_over_pallas_runs_equals_the_xla_loop():
    # jax.vmap over whole batch runs (here two stimulus scales): the kernel is vmapped by
    # the pallas_call's own rule, also where several devices make it custom-partitioned.
    model = scjax.Izhikevich(d=jnp.linspace(2.0, 8.0, B))

    def counts(scale, loop):
        stimulus = scjax.stimulus.Constant(scale * jnp.linspace(3.0, 12.0, B))
        run = scjax.simulate_batch(model, stimulus, 0.5, n_steps=200, spikes="count", loop=loop)
        return run.spike_count, run.y

    scales = jnp.asarray([1.0, 1.5])
    xla = jax.vmap(lambda s: counts(s, "xla"))(scales)
    pallas = jax.vmap(lambda s: counts(s, LOOP))(scales)
    for a, b in zip(xla, pallas):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(xla[0][0], xla[0][1])  # the scales differ in their counts


def test_a_batch_sharded_over_a_two_dimensional_mesh_is_refused():
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    mesh = Mesh(np.asarray(jax.devices()).reshape(2, 1), ("rows", "columns"))
    amplitude = jax.device_put(
        jnp.linspace(3.0, 12.0, 8), NamedSharding(mesh, PartitionSpec("rows"))
    )
    stimulus = scjax.stimulus.Constant(amplitude)
    with pytest.raises(ValueError, match=r"loop='pallas' runs a batch sharded along its first"):
        scjax.simulate_batch(scjax.Izhikevich(), stimulus, 0.5, n_steps=10, loop=LOOP)
    # "auto" takes the XLA loop (on the CPU: the blocked loop) instead.
    auto = scjax.simulate_batch(scjax.Izhikevich(), stimulus, 0.5, n_steps=10, loop="auto")
    assert auto.spike_count.shape == (8,)


def test_chunks_of_a_noisy_batch():
    # chunk_size: each chunk is sharded over the devices and its neurons keep their keys of
    # the whole batch; the chunks' results equal one XLA run.
    stimulus = scjax.stimulus.OrnsteinUhlenbeck(mean=jnp.linspace(3.0, 12.0, B), std=2.0, tau=4.0)
    options = dict(n_steps=200, save_every=100, spikes="count", key=jax.random.key(4))
    xla = scjax.simulate_batch(scjax.Izhikevich(), stimulus, 0.5, **options)
    chunked = scjax.simulate_batch(
        scjax.Izhikevich(), stimulus, 0.5, loop=LOOP, chunk_size=6, **options
    )
    _spread(xla.spike_count)
    np.testing.assert_array_equal(chunked.spike_count, np.asarray(xla.spike_count))
    np.testing.assert_array_equal(chunked.y, np.asarray(xla.y))


def test_keys_of_other_implementations_and_bad_options_are_refused():
    noise = scjax.stimulus.OrnsteinUhlenbeck(mean=0.0, std=1.0, tau=5.0)
    drive = scjax.stimulus.Constant(jnp.linspace(5.0, 15.0, 3)) + noise
    with pytest.raises(ValueError, match=r"loop='pallas' draws random numbers from threefry"):
        scjax.simulate_batch(
            scjax.Izhikevich(),
            drive,
            0.5,
            n_steps=20,
            spikes="count",
            key=jax.random.key(0, impl="rbg"),
            loop="pallas",
        )
    model, current = scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, 3)), jnp.full(20, 10.0)
    loops = r"\('xla', 'blocked', 'pallas', 'auto'\)"
    with pytest.raises(ValueError, match=f"loop must be one of {loops}"):
        scjax.simulate_batch(model, current, 0.5, loop="triton")
    with pytest.raises(ValueError, match="loop.block_size must be a power of two, got 6"):
        scjax.simulate_batch(model, current, 0.5, spikes="count", loop=PallasLoop(block_size=6))
    with pytest.raises(ValueError, match="loop.num_warps must be a positive int"):
        scjax.simulate_batch(model, current, 0.5, spikes="count", loop=PallasLoop(num_warps=0))


def _lower_for_cuda(
    model, drive, n_steps, save_every, block, key=None, spikes="count", events=None, solver=None
):
    """The kernel lowered for a CUDA device (Triton IR), here without one: JAX lowers for
    any platform; a primitive or layout the Triton lowering lacks fails here as it would on
    a GPU. (Compiling the IR to PTX needs the GPU: experiments/gpu/run.sh.)"""
    from scjax.simulation._loop import initial_stimulus_state
    from scjax.simulation._pallas import kernel_outputs
    from scjax.simulation._recording import make_recording
    from scjax.solvers import solver_from_name

    batch = 1000
    dtype = jnp.result_type(*jax.tree.leaves(model))
    if solver is None:
        solver = solver_from_name(model.integrator, fast_mask=model.fast_mask)
    axes = jax.tree.map(lambda x: 0 if jnp.ndim(x) == 1 else None, model)
    recording = make_recording(model, n_steps, spikes, None, save_every, 64)
    y0 = jnp.broadcast_to(model.initial_state(), (batch, model.n_state)).astype(dtype)
    loop = PallasLoop(block_size=block, interpret=False)

    def outputs(model, drive, y0):
        dt = jnp.asarray(0.01, dtype)
        state = None
        if isinstance(drive, scjax.stimulus.AbstractStimulus):
            state = initial_stimulus_state(drive, drive.batch_axes(), dt, key, batch)
        return kernel_outputs(
            model, solver, drive, dt, y0, jnp.asarray(0.0, dtype), state, n_steps, recording,
            axes, loop, events,
        )  # fmt: skip

    return jax.jit(outputs).trace(model, drive, y0).lower(lowering_platforms=("cuda",)).as_text()


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_kernel_lowers_to_triton(dtype):
    n = 1000
    hh = _cast(scjax.HodgkinHuxley(integrator="rk4", g_na=jnp.linspace(100.0, 140.0, n)), dtype)
    stimulus = scjax.stimulus.Constant(jnp.linspace(2.0, 20.0, n)) + scjax.stimulus.Pulse(
        onset=1.0, duration=2.0, amplitude=3.0
    )
    text = _lower_for_cuda(hh, _cast(stimulus, dtype), 100, 100, 256)
    assert text.count("__gpu$xla.gpu.triton") == 1
    izh = _cast(scjax.Izhikevich(a=jnp.linspace(0.02, 0.1, n)), dtype)
    sampled = scjax.stimulus.Sampled(jnp.ones((n, 100))) + scjax.stimulus.Sine(1.0, 10.0)
    text = _lower_for_cuda(izh, _cast(sampled, dtype), 100, 25, 128)
    assert text.count("__gpu$xla.gpu.triton") == 1
    text = _lower_for_cuda(izh, jnp.ones(100, dtype), 100, 100, 1024)  # a shared [T] trace
    assert text.count("__gpu$xla.gpu.triton") == 1
    # Noise drawn in the kernel: threefry's integer rounds, the bit casts and erf_inv.
    noise = scjax.stimulus.OrnsteinUhlenbeck(
        mean=jnp.linspace(2.0, 10.0, n), std=3.0, tau=5.0
    ) + scjax.stimulus.WhiteNoise(std=1.0)
    text = _lower_for_cuda(hh, _cast(noise, dtype), 100, 100, 256, key=jax.random.key(1))
    assert text.count("__gpu$xla.gpu.triton") == 1
    # Spike times (a masked scatter into the block's rows) and a raster (a row per step).
    for spikes in ("times", "raster"):
        text = _lower_for_cuda(izh, _cast(sampled, dtype), 100, 50, 128, spikes=spikes)
        assert text.count("__gpu$xla.gpu.triton") == 1
    # In-step events: the unrolled root find, two located spikes per step (two masked stores
    # per step), a resetting and a crossing model.
    events = scjax.simulation.InStepEvents(max_spikes_per_step=2, newton_iterations=3)
    for model in (izh, hh):
        text = _lower_for_cuda(
            model, _cast(stimulus, dtype), 50, 50, 256, spikes="times", events=events
        )
        assert text.count("__gpu$xla.gpu.triton") == 1
    # A Rosenbrock step with the elimination solve (pivoting by selects).
    rodas = scjax.solvers.Rodas5P(linear_solve="elimination")
    text = _lower_for_cuda(hh, _cast(stimulus, dtype), 50, 50, 256, solver=rodas)
    assert text.count("__gpu$xla.gpu.triton") == 1
