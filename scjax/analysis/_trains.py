r"""The padded spike-train representation shared by every spike-train function.

A spike train is a padded array of spike times `times [..., N]` with the number of valid
spikes `counts [...]`: entries `times[..., :counts]` are the spikes (sorted, non-decreasing),
the rest is padding and is ignored whatever its value (`spike_times` pads with +inf, so padded
arrays stay sorted). Leading axes are batch axes. Times are in one unit (ms throughout scjax).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_finite_scalar, is_concrete


def check_train(name: str, times, counts) -> tuple[jax.Array, jax.Array]:
    """Validate a padded train (when concrete) and return it as arrays. Padding is never
    used in arithmetic here, so +inf padding raises no NumPy RuntimeWarning."""
    if is_concrete(times):
        t = np.asarray(times)
        if t.ndim < 1:
            raise ValueError(f"{name} must have a trailing spike axis, got a scalar")
        if not np.issubdtype(t.dtype, np.number):
            raise ValueError(f"{name} must be a real array of spike times, got dtype {t.dtype}")
    if is_concrete(counts):
        _check_counts(name, counts, np.shape(times)[-1] if is_concrete(times) else None)
    if is_concrete(times) and is_concrete(counts):
        _check_valid_times(name, times, counts)
    times = jnp.asarray(times)
    if not jnp.issubdtype(times.dtype, jnp.floating):
        times = times.astype(jnp.result_type(float))
    return times, jnp.asarray(counts)


def _check_counts(name: str, counts, padded_length: int | None) -> None:
    """Whole, non-negative counts, at most the padded length (when known)."""
    c = np.asarray(counts)
    if not np.issubdtype(c.dtype, np.integer):
        if not np.all(np.mod(c, 1) == 0):
            raise ValueError(f"counts of {name} must be integers, got {c}")
    if np.any(c < 0):
        raise ValueError(f"counts of {name} must be >= 0, got {c}")
    if padded_length is not None and np.any(c > padded_length):
        raise ValueError(f"counts of {name} exceed its padded length {padded_length}: {c}")


def _check_valid_times(name: str, times, counts) -> None:
    """The valid entries (within counts) finite and sorted (non-decreasing)."""
    t = np.asarray(times, dtype=float)
    c = np.broadcast_to(np.asarray(counts), t.shape[:-1])
    valid = np.arange(t.shape[-1]) < c[..., None]
    if not np.all(np.isfinite(t[valid])):
        raise ValueError(f"{name} must be finite where valid (within counts)")
    # inf − inf in the padding would warn; the padding's differences are not checked.
    t = np.where(valid, t, 0.0)
    pair_valid = valid[..., 1:]
    unsorted = (np.diff(t, axis=-1) < 0) & pair_valid
    if np.any(unsorted):
        bad = np.argwhere(unsorted)[0]
        raise ValueError(
            f"{name} must be sorted (non-decreasing) within counts; unsorted at index "
            f"{tuple(int(b) for b in bad[:-1])} position {int(bad[-1]) + 1}"
        )


def valid_mask(times, counts):
    return jnp.arange(times.shape[-1]) < jnp.asarray(counts)[..., None]


def clean(times, counts, fill):
    """(times with padding replaced by `fill`, valid mask): padding never reaches arithmetic,
    so it cannot leak NaN into values or gradients."""
    mask = valid_mask(times, counts)
    return jnp.where(mask, times, fill), mask


def check_positive(name, value):
    check_finite_scalar(name, value, positive=True)


def check_window(t_start, t_stop):
    check_finite_scalar("t_start", t_start)
    check_finite_scalar("t_stop", t_stop)
    if is_concrete(t_start) and is_concrete(t_stop) and not float(t_stop) > float(t_start):
        raise ValueError(
            f"t_stop must be greater than t_start = {float(t_start)}, got {float(t_stop)}"
        )
    if is_concrete(t_start) and is_concrete(t_stop):
        # Distances divide by the window length: a subnormal window would overflow to inf·0.
        width = float(t_stop) - float(t_start)
        if not math.isfinite(1.0 / width):
            raise ValueError(f"t_stop: the window t_stop - t_start = {width} is too short")
