"""Matplotlib figures for the analysis results. matplotlib is imported only inside these
functions, so `import scjax.analysis` does not need it."""

from typing import Any

import numpy as np

from ._checks import check_bounds
from ._fixed_points import fixed_points
from ._nullclines import nullclines
from ._results import BifurcationScan

#: marker face by stability: filled = stable, open = unstable (the usual convention)
# Any: matplotlib's keyword arguments take many types; a str | int dict matches none of them.
_STABLE_STYLE: dict[str, Any] = dict(
    marker="o", markersize=7, markeredgecolor="k", markerfacecolor="k"
)
_UNSTABLE_STYLE: dict[str, Any] = dict(
    marker="o", markersize=7, markeredgecolor="k", markerfacecolor="w"
)


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 4))
    return ax


def plot_phase_portrait(
    model,
    current: float,
    bounds,
    *,
    ax=None,
    resolution: int = 200,
    arrows: int = 20,
    trajectory=None,
    n_seeds: int | None = None,
):
    """Phase portrait of a two-state model: nullclines, the normalised vector field (arrows),
    fixed points (filled stable, open unstable, labelled by kind) and, optionally, a
    trajectory (a `scjax.Trajectory`, or a `[T, 2]` array) on top. Returns the axes."""
    import jax
    import jax.numpy as jnp

    bounds = check_bounds(model, bounds, n_dims=2)
    ax = _axes(ax)
    nc = nullclines(model, current, bounds, resolution)
    colors = ("tab:blue", "tab:orange")
    for (name, lines), color in zip(nc.lines.items(), colors):
        for k, line in enumerate(lines):
            ax.plot(
                line[:, 0],
                line[:, 1],
                color=color,
                lw=1.6,
                label=f"d{name}/dt = 0" if k == 0 else None,
            )
    gx = np.linspace(bounds[0, 0], bounds[0, 1], arrows)
    gy = np.linspace(bounds[1, 0], bounds[1, 1], arrows)
    xx, yy = np.meshgrid(gx, gy, indexing="xy")
    pts = jnp.asarray(np.stack([xx.ravel(), yy.ravel()], axis=-1))
    field = np.asarray(jax.vmap(lambda y: model.vector_field(0.0, y, current))(pts))
    # Normalise in box units so slow and fast directions are both visible.
    scale = bounds[:, 1] - bounds[:, 0]
    u, v = field[:, 0] / scale[0], field[:, 1] / scale[1]
    norm = np.hypot(u, v)
    norm[norm == 0] = 1.0
    ax.quiver(
        xx.ravel(),
        yy.ravel(),
        u / norm * scale[0],
        v / norm * scale[1],
        color="0.6",
        angles="xy",
        scale_units="xy",
        scale=arrows / 0.6,
        width=0.003,
    )
    if trajectory is not None:
        y = np.asarray(getattr(trajectory, "y", trajectory))
        ax.plot(y[:, 0], y[:, 1], color="tab:red", lw=0.9, label="trajectory")
    for p in fixed_points(model, current, bounds, n_seeds):
        ax.plot(
            p.state[0],
            p.state[1],
            linestyle="none",
            **(_STABLE_STYLE if p.stable else _UNSTABLE_STYLE),
        )
        ax.annotate(
            p.kind, (p.state[0], p.state[1]), textcoords="offset points", xytext=(6, 6), fontsize=7
        )
    ax.set_xlim(*bounds[0])
    ax.set_ylim(*bounds[1])
    ax.set_xlabel(model.state_names[0])
    ax.set_ylabel(model.state_names[1])
    ax.set_title(f"{type(model).__name__}, I = {current:g}", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    return ax


def plot_bifurcation(scan: BifurcationScan, *, ax=None, state: int = 0):
    """Bifurcation diagram: the fixed points' `state` component against the current (solid
    stable, dashed unstable), the simulated min/max envelope of V, and the located Hopf (HB)
    and saddle-node (SN) points. Returns the axes."""
    ax = _axes(ax)
    styles: tuple[tuple[bool, dict[str, Any]], ...] = (
        (True, dict(color="k", ls="none", marker=".", ms=3)),
        (False, dict(color="tab:red", ls="none", marker="x", ms=3)),
    )
    for stable, style in styles:
        xs = [p.current for pts in scan.fixed_points for p in pts if p.stable == stable]
        ys = [p.state[state] for pts in scan.fixed_points for p in pts if p.stable == stable]
        ax.plot(xs, ys, label="stable fixed point" if stable else "unstable fixed point", **style)
    if scan.v_min is not None and scan.v_max is not None:
        ax.fill_between(
            scan.currents,
            scan.v_min,
            scan.v_max,
            color="tab:blue",
            alpha=0.2,
            label="simulated min/max of V",
        )
    for b in scan.bifurcations:
        tag = "HB" if b.kind == "hopf" else "SN"
        ax.plot(b.current, b.state[state], "s", color="tab:green", ms=6)
        ax.annotate(
            f"{tag} {b.current:.4g}",
            (b.current, b.state[state]),
            textcoords="offset points",
            xytext=(4, -12),
            fontsize=7,
        )
    ax.set_xlabel("current")
    ax.set_ylabel(f"fixed point / envelope (state {state})")
    ax.legend(fontsize=7, loc="best")
    return ax


def plot_fi_curve(currents, rates, *, ax=None, label=None):
    """Firing rate (Hz) against current. Returns the axes."""
    ax = _axes(ax)
    ax.plot(np.asarray(currents), np.asarray(rates), "o-", ms=3, label=label)
    ax.set_xlabel("current")
    ax.set_ylabel("firing rate (Hz)")
    if label:
        ax.legend(fontsize=7)
    return ax
