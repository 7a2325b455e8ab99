"""`scjax analyze MODEL`: fixed points, bifurcation scan and F–I curve of a model; `--plot`
draws the phase portrait (two-state models), the bifurcation diagram and the F–I curve into
one figure, `--json` writes the numbers.
"""

import dataclasses
import time

from ._common import UsageError, import_pyplot, json_safe, staged_outputs

HELP = "phase plane, fixed points, bifurcation scan of a model"
X64 = True


@dataclasses.dataclass(frozen=True)
class AnalysisSetup:
    """Where `scjax analyze` looks at one model: choices of the analysis, not model facts
    (the class, its state names and presets are read from the model itself)."""

    model: str  # class name in scjax.models
    bounds: dict[str, tuple[float, float]]  # state name → search box of the fixed points
    currents: tuple[float, float]  # default scan range
    current: float  # default current of the fixed points and the phase portrait
    dt: float  # ms
    duration: float  # ms

    def model_class(self):
        from scjax.models import MODELS

        return MODELS[self.model]

    def box(self) -> list[tuple[float, float]]:
        """The search box in the order of the model's `state_names`."""
        return [self.bounds[name] for name in self.model_class().state_names]


MODELS: dict[str, AnalysisSetup] = {
    "fhn": AnalysisSetup(
        "FitzHughNagumo", {"v": (-2.5, 2.5), "w": (-1.0, 3.0)}, (0.0, 1.6), 0.5, 0.05, 400.0
    ),
    "morris-lecar": AnalysisSetup(
        "MorrisLecar", {"v": (-80.0, 60.0), "w": (0.0, 1.0)}, (40.0, 240.0), 100.0, 0.1, 1000.0
    ),
    "izhikevich": AnalysisSetup(
        "Izhikevich", {"v": (-90.0, 0.0), "u": (-30.0, 10.0)}, (0.0, 12.0), 5.0, 0.1, 1000.0
    ),
    "adex": AnalysisSetup(
        "AdEx", {"v": (-80.0, -30.0), "w": (-100.0, 400.0)}, (0.0, 800.0), 400.0, 0.02, 500.0
    ),
    "hh": AnalysisSetup(
        "HodgkinHuxley",
        {"v": (-90.0, 40.0), "m": (0.0, 1.0), "h": (0.0, 1.0), "n": (0.0, 1.0)},
        (0.0, 20.0),
        10.0,
        0.01,
        300.0,
    ),
    "lif": AnalysisSetup("LIF", {"v": (-90.0, 0.0)}, (0.0, 40.0), 20.0, 0.1, 1000.0),
}
#: short names besides the keys of MODELS and the class names (any case, '-' optional)
ALIASES = {
    "fitzhugh-nagumo": "fhn",
    "ml": "morris-lecar",
    "izh": "izhikevich",
    "hodgkin-huxley": "hh",
}
#: points of the default current scan
N_CURRENTS = 41


def configure(parser) -> None:
    parser.add_argument("model", help="one of " + ", ".join(MODELS) + " (or the class name)")
    parser.add_argument(
        "--preset",
        help="a named parameter set of the model (Izhikevich RS, IB, ...; AdEx tonic, ...)",
    )
    parser.add_argument(
        "--current", type=float, help="current of the fixed points and the phase portrait"
    )
    parser.add_argument("--currents", help="scan range lo:hi:n (default per model)")
    parser.add_argument("--plot", help="write the figure here (.png)")
    parser.add_argument("--json", help="write the numbers here")
    parser.add_argument(
        "--no-simulate", action="store_true", help="skip the envelope and F–I simulations"
    )


def resolve(name: str) -> str:
    """The key of MODELS that `name` means (a key, an alias or a class name, any case)."""
    lowered = name.lower()
    by_name = {
        **{k: k for k in MODELS},
        **ALIASES,
        **{setup.model.lower(): k for k, setup in MODELS.items()},
    }
    for candidate in (lowered, lowered.replace("_", "-"), lowered.replace("-", "")):
        if candidate in by_name:
            return by_name[candidate]
    raise UsageError(f"argument model: must be one of {', '.join(MODELS)}, got {name!r}")


def build_model(setup: AnalysisSetup, preset: str | None):
    cls = setup.model_class()
    if preset is None:
        # A concrete class: the base's AbstractVars are not its constructor's arguments.
        return cls()  # pyright: ignore[reportCallIssue]
    # Presets are the model's: it says which names exist (and rejects the others).
    try:
        return cls.preset(preset)
    except ValueError as err:
        raise UsageError(f"argument --preset: {err}") from None


def parse_currents(spec: str) -> tuple[float, float, int]:
    """`lo:hi:n` → (lo, hi, n) with finite lo < hi and n >= 2."""
    parts = spec.split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise UsageError(
            f"argument --currents: expected lo:hi:n (e.g. 0:40:21), got {spec!r}"
        ) from None
    if not (abs(lo) < float("inf") and abs(hi) < float("inf") and lo < hi):
        raise UsageError(f"argument --currents: need finite lo < hi, got {spec!r}")
    if n < 2:
        raise UsageError(f"argument --currents: n must be >= 2, got {n}")
    return lo, hi, n


def run(args) -> int:
    import numpy as np

    from scjax.analysis import dynamics

    setup = MODELS[resolve(args.model)]
    model = build_model(setup, args.preset)
    lo, hi, n = parse_currents(args.currents) if args.currents else (*setup.currents, N_CURRENTS)
    plt = import_pyplot("--plot") if args.plot else None
    bounds = setup.box()
    currents = np.linspace(lo, hi, n)
    current = setup.current if args.current is None else args.current
    started = time.perf_counter()
    simulate = not args.no_simulate
    scan = dynamics.bifurcation_scan(
        model, currents, bounds, dt=setup.dt if simulate else None, duration=setup.duration
    )
    rates = (
        np.asarray(dynamics.fi_curve(model, currents, setup.dt, setup.duration))
        if simulate
        else None
    )
    fps = dynamics.fixed_points(model, current, bounds)
    seconds = time.perf_counter() - started

    name = type(model).__name__ + (f" {args.preset}" if args.preset else "")
    print(f"{name}: fixed points at I = {current:g}")
    for p in fps:
        lam = ", ".join(f"{z.real:.4g}{z.imag:+.4g}j" for z in p.eigenvalues)
        print(f"  {p.kind:15s} y* = {np.array2string(p.state, precision=5)}  λ = [{lam}]")
    print(f"bifurcations for I in [{lo:g}, {hi:g}] ({n} currents):")
    for b in scan.bifurcations or []:
        extra = (
            f", onset frequency {1000 * abs(b.eigenvalues[0].imag) / (2 * np.pi):.4g} Hz"
            if b.kind == "hopf"
            else ""
        )
        print(f"  {b.kind:11s} at I = {b.current:.10g}{extra}")
    if not scan.bifurcations:
        print("  none found")
    if rates is not None:
        firing = currents[rates > 0]
        print(
            "F–I: "
            + (
                f"fires from I = {firing.min():g} (grid), max {rates.max():.4g} Hz"
                if firing.size
                else "silent"
            )
        )
    print(f"({seconds:.1f} s)")

    with staged_outputs() as staged:
        if args.json:
            # Non-finite numbers (a quantity that does not exist at a current) become null.
            staged.write_json(
                args.json,
                json_safe(
                    {
                        "model": type(model).__name__,
                        "preset": args.preset,
                        "current": current,
                        "state_names": list(model.state_names),
                        "fixed_points": [
                            {
                                "state": p.state.tolist(),
                                "kind": p.kind,
                                "eigenvalues_real": np.real(p.eigenvalues).tolist(),
                                "eigenvalues_imag": np.imag(p.eigenvalues).tolist(),
                            }
                            for p in fps
                        ],
                        "bifurcations": [
                            {"kind": b.kind, "current": b.current, "state": b.state.tolist()}
                            for b in scan.bifurcations
                        ],
                        "currents": currents.tolist(),
                        "rates_hz": None if rates is None else rates.tolist(),
                        "v_min": None if scan.v_min is None else scan.v_min.tolist(),
                        "v_max": None if scan.v_max is None else scan.v_max.tolist(),
                        "seconds": seconds,
                    }
                ),
            )
        if plt is not None:
            fig = _figure(plt, model, setup, current, bounds, scan, currents, rates)
            staged.savefig(fig, args.plot, dpi=120)
            plt.close(fig)
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


def _figure(plt, model, setup, current, bounds, scan, currents, rates):
    import numpy as np

    from scjax import simulate
    from scjax.analysis._plot import plot_bifurcation, plot_fi_curve, plot_phase_portrait

    two_d = model.n_state == 2
    ncols = 2 + two_d
    fig, axes = plt.subplots(1, ncols, figsize=(5 * ncols, 4.2))
    k = 0
    if two_d:
        tr = simulate(model, np.full(int(setup.duration / setup.dt), current), setup.dt)
        plot_phase_portrait(model, current, bounds, ax=axes[0], trajectory=tr)
        k = 1
    plot_bifurcation(scan, ax=axes[k])
    axes[k].set_title(f"{type(model).__name__}: bifurcation diagram", fontsize=9)
    if rates is not None:
        plot_fi_curve(currents, rates, ax=axes[k + 1])
    axes[k + 1].set_title("F–I curve (steady state, step from rest)", fontsize=9)
    fig.tight_layout()
    return fig
