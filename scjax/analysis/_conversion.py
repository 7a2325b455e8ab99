"""Conversions into and out of the padded spike-train form: from a boolean raster
(`scjax.Trajectory.spikes`), and to `neo.SpikeTrain` for Elephant and PySpike users."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from .._validation import check_finite_scalar
from ._trains import check_train


def spike_times(
    raster: Bool[ArrayLike, "... T"],
    dt: float,
    *,
    t0: float = 0.0,
    max_spikes: int | None = None,
) -> tuple[Float[Array, "... N"], Int[Array, "..."]]:
    """A boolean raster `[..., T]` → padded spike times `[..., N]` and counts `[...]`.

    `raster[..., n]` True means a spike in step n, at time `t0 + (n + 1)·dt` — the end of the
    step, the convention of `scjax.Trajectory.spike_times`. `max_spikes` (default T) is the
    padded length N; spikes beyond it are dropped (and `counts` is clipped to N). Padding is
    +inf, so padded arrays stay sorted.
    """
    check_finite_scalar("dt", dt, positive=True)
    check_finite_scalar("t0", t0)
    raster = jnp.asarray(raster)
    if raster.ndim < 1:
        raise ValueError("raster must have a trailing time axis, got a scalar")
    n_t = raster.shape[-1]
    if n_t == 0:
        raise ValueError(f"raster must have at least one time step, got shape {raster.shape}")
    n = n_t if max_spikes is None else int(max_spikes)
    if n < 1:
        raise ValueError(f"max_spikes must be >= 1, got {max_spikes}")
    return _spike_times(
        raster, jnp.asarray(dt, jnp.result_type(float)), jnp.asarray(t0, jnp.result_type(float)), n
    )


@eqx.filter_jit
def _spike_times(raster, dt, t0, n: int):
    n_t = raster.shape[-1]
    flat = raster.reshape(-1, n_t).astype(bool)
    idx = jax.vmap(lambda r: jnp.nonzero(r, size=n, fill_value=n_t)[0])(flat)
    counts = jnp.minimum(jnp.sum(flat, axis=-1), n)
    times = t0 + (idx.astype(dt.dtype) + 1.0) * dt
    times = jnp.where(jnp.arange(n) < counts[:, None], times, jnp.inf)
    return times.reshape(*raster.shape[:-1], n), counts.reshape(raster.shape[:-1])


def to_neo(
    spike_times: Float[ArrayLike, " N"],
    t_stop: float,
    units: str = "ms",
    *,
    counts: int | None = None,
    t_start: float = 0.0,
    **kwargs,
):
    """One spike train as a `neo.SpikeTrain` (Garcia et al. 2014, Front. Neuroinform. 8:10),
    the input type of Elephant and of PySpike's `neo` loaders.

    Arguments:
        spike_times: `[N]` spike times, e.g. `Trajectory.spike_times()`, or a padded train
            from `spike_times` with its `counts` (padding is dropped).
        t_stop: the end of the recording, in `units`.
        units: the time unit of `spike_times`, `t_start` and `t_stop` (scjax uses ms).
        counts: the number of valid spikes of a padded train (default: all of them).
        t_start: the start of the recording.
        **kwargs: passed to `neo.SpikeTrain` (e.g. `name`, `sampling_rate`).

    Needs the optional dependency neo (`pip install scjax[neo]`); raises `ImportError` with
    that hint when it is missing.
    """
    try:
        import neo
        import quantities as pq
    except ImportError as err:
        raise ImportError(
            "to_neo needs the optional dependency neo: pip install 'scjax[neo]'"
        ) from err
    t = np.asarray(spike_times, dtype=float)
    if t.ndim != 1:
        raise ValueError(f"spike_times must be one train of shape [N], got shape {t.shape}")
    n = t.shape[0] if counts is None else int(counts)
    if counts is not None:
        check_train("spike_times", t, n)
    t = t[:n]
    check_finite_scalar("t_stop", t_stop)
    check_finite_scalar("t_start", t_start)
    if not float(t_stop) > float(t_start):
        raise ValueError(f"t_stop must be greater than t_start = {t_start}, got {t_stop}")
    if t.size and not (np.all(np.isfinite(t)) and t.min() >= t_start and t.max() <= t_stop):
        raise ValueError(
            f"spike_times must be finite and inside [t_start, t_stop] = [{t_start}, {t_stop}], "
            f"got [{t.min()}, {t.max()}]"
        )
    try:
        unit = pq.Quantity(1.0, units)
    except LookupError as err:
        raise ValueError(f"units must be a time unit known to quantities, got {units!r}") from err
    # quantities' quantity.pyi omits the `simplified` property that quantity.py defines.
    simplified = unit.simplified  # pyright: ignore[reportAttributeAccessIssue]
    if simplified.dimensionality != pq.s.dimensionality:
        raise ValueError(f"units must be a time unit (ms, s, ...), got {units!r}")
    return neo.SpikeTrain(
        t * unit.units,
        t_stop=float(t_stop) * unit.units,
        t_start=float(t_start) * unit.units,
        **kwargs,
    )
