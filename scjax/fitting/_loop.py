"""The optimisation loop: phases of optimiser steps, each run as compiled chunks.

One chunk is `chunk_size` vmapped (over restarts; mapped one by one for an in-step
objective, `Objective.sequential`) optimiser steps in one `jax.lax.scan`
under `eqx.filter_jit`; every chunk of a phase has the same length (the last steps of the
last chunk are masked), so a phase compiles once. Between two chunks control is back in
Python: a Ctrl-C (SIGINT) or a `KeyboardInterrupt` raised by the callback during a chunk
stops the fit when that chunk ends.
"""

import contextlib
import math
import signal
import threading
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

_INTERRUPTED = threading.Event()


class HostCallback(eqx.Module):
    """Calls the user's `callback(step, losses)` for the steps that update; a
    `KeyboardInterrupt` it raises stops the fit after the chunk (it cannot leave a compiled
    program)."""

    fn: Callable | None = eqx.field(static=True)

    def __call__(self, step, losses, updates):
        if self.fn is None or not bool(updates):
            return
        try:
            self.fn(step, losses)
        except KeyboardInterrupt:
            _INTERRUPTED.set()


@contextlib.contextmanager
def _sigint_stops_between_chunks():
    """While fitting, a first SIGINT only sets a flag (checked between chunks); a second one
    is a plain `KeyboardInterrupt`. Only the main thread can own signal handlers."""
    _INTERRUPTED.clear()
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield
        return

    def handler(signum, frame):
        if _INTERRUPTED.is_set():
            raise KeyboardInterrupt
        _INTERRUPTED.set()

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _select(flag, new, old):
    return jax.tree.map(lambda n, o: jnp.where(flag, n, o), new, old)


def _map_restarts(fn):
    """`fn` over the leading (restart) axis of its arguments, one restart at a time."""
    return lambda *args: jax.lax.map(lambda a: fn(*a), args)


@eqx.filter_jit
def _chunk(objective, optimizer, carry, step_indices, stop, callback):
    """Steps `step_indices` of a phase that updates while index < `stop`; the step at
    index == `stop` only evaluates (the last iterate of the last phase), later ones idle."""
    extra_args = isinstance(optimizer, optax.GradientTransformationExtraArgs)
    # In-step events branch (`lax.cond`) only in the steps that spike; under `vmap` a cond
    # becomes a select that runs the root find in every step. Restarts of such an objective
    # run one after the other (`lax.map`) so the branch stays a branch.
    batch = _map_restarts if objective.sequential else jax.vmap
    value_and_grad = batch(jax.value_and_grad(objective))

    def update(g, state, u, value):
        if extra_args:  # e.g. optax.lbfgs wants the value and a value function
            return optimizer.update(g, state, u, value=value, grad=g, value_fn=objective)
        return optimizer.update(g, state, u)

    def body(carry, i):
        u, state, best_u, best_loss = carry
        loss, g = value_and_grad(u)
        updates_now = i < stop
        finite = jnp.isfinite(loss)
        ok = finite & jnp.all(jnp.isfinite(g), axis=-1)
        # A diverged simulation must not poison the optimiser state with NaN.
        g = jnp.where(ok[:, None], g, 0.0)
        better = (i <= stop) & jnp.where(updates_now, ok, finite) & (loss < best_loss)
        best_u = jnp.where(better[:, None], u, best_u)
        best_loss = jnp.where(better, loss, best_loss)
        step_updates, new_state = batch(update)(g, state, u, jnp.where(ok, loss, 0.0))
        u, state = _select(
            updates_now, (optax.apply_updates(u, step_updates), new_state), (u, state)
        )
        if callback.fn is not None:
            jax.debug.callback(callback, i, loss, updates_now, ordered=True)
        return (u, state, best_u, best_loss), loss

    return jax.lax.scan(body, carry, step_indices)


def run_phases(objective, phases, u_init, chunk_size: int, callback):
    """Run every phase from `u_init` `[restarts, n_params]`.

    Returns (best_u, best_loss `[restarts]` (+inf where never finite), loss history
    `[restarts, completed steps]`, interrupted)."""
    host_callback = HostCallback(callback)
    u, best_u = u_init, u_init
    best_loss = jnp.full(u_init.shape[:1], jnp.inf, u_init.dtype)
    histories = [np.zeros((0, u_init.shape[0]))]
    first = 0
    with _sigint_stops_between_chunks():
        for p, (optimizer, steps) in enumerate(phases):
            n_calls = steps + (1 if p == len(phases) - 1 else 0)  # + the final evaluation
            n_chunks = math.ceil(n_calls / chunk_size)
            length = math.ceil(n_calls / n_chunks)
            stop = first + steps
            state = jax.vmap(optimizer.init)(u)
            for c in range(n_chunks):
                indices = first + c * length + np.arange(length)
                (u, state, best_u, best_loss), history = jax.block_until_ready(
                    _chunk(
                        objective,
                        optimizer,
                        (u, state, best_u, best_loss),
                        jnp.asarray(indices),
                        jnp.asarray(stop),
                        host_callback,
                    )
                )
                histories.append(np.asarray(history)[indices < stop])
                if _INTERRUPTED.is_set():
                    return best_u, best_loss, np.concatenate(histories).T, True
            first = stop
    return best_u, best_loss, np.concatenate(histories).T, False
