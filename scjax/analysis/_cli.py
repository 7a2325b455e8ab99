"""`scjax analyze MODEL`: fixed points, bifurcation scan and F–I curve of a model; `--plot`
draws phase portrait (two-state models), bifurcation diagram and F–I curve into one figure,
`--json` writes the numbers."""

import argparse
import json
import time

#: name → (constructor, state bounds for the fixed-point search, current range (lo, hi),
#: default current for the phase portrait, dt ms, duration ms)
MODELS: dict[str, tuple] = {
    "fhn": ("FitzHughNagumo", [(-2.5, 2.5), (-1.0, 3.0)], (0.0, 1.6), 0.5, 0.05, 400.0),
    "morris-lecar": ("MorrisLecar", [(-80.0, 60.0), (0.0, 1.0)], (40.0, 240.0), 100.0, 0.1,
                     1000.0),
    "izhikevich": ("Izhikevich", [(-90.0, 0.0), (-30.0, 10.0)], (0.0, 12.0), 5.0, 0.1, 1000.0),
    "adex": ("AdEx", [(-80.0, -30.0), (-100.0, 400.0)], (0.0, 800.0), 400.0, 0.02, 500.0),
    "hh": ("HodgkinHuxley", [(-90.0, 40.0), (0.0, 1.0), (0.0, 1.0), (0.0, 1.0)], (0.0, 20.0),
           10.0, 0.01, 300.0),
    "lif": ("LIF", [(-90.0, 0.0)], (0.0, 40.0), 20.0, 0.1, 1000.0),
}
ALIASES = {"fitzhughnagumo": "fhn", "fitzhugh-nagumo": "fhn", "ml": "morris-lecar",
           "morrislecar": "morris-lecar", "izh": "izhikevich", "hodgkinhuxley": "hh",
           "hodgkin-huxley": "hh"}


def _model(name: str, preset: str | None):
    import scjax

    key = ALIASES.get(name.lower(), name.lower())
    if key not in MODELS:
        raise ValueError(f"MODEL must be one of {sorted(MODELS)}, got {name!r}")
    cls = getattr(scjax, MODELS[key][0])
    model = cls.preset(preset) if preset else cls()
    return key, model


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scjax analyze", description=__doc__)
    parser.add_argument("model", help="one of " + ", ".join(MODELS))
    parser.add_argument("--preset", help="a named preset (Izhikevich RS/IB/..., AdEx tonic/...)")
    parser.add_argument("--current", type=float, help="current of the phase portrait")
    parser.add_argument("--currents", help="scan range lo:hi:n (default per model)")
    parser.add_argument("--plot", help="write the figure here (.png)")
    parser.add_argument("--json", help="write the numbers here")
    parser.add_argument("--no-simulate", action="store_true",
                        help="skip the envelope and F–I simulations")
    args = parser.parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)  # the CLI is an application: it may set this
    import numpy as np

    from . import dynamics

    try:
        key, model = _model(args.model, args.preset)
    except ValueError as err:
        parser.error(str(err))
    _, bounds, (lo, hi), current0, dt, duration = MODELS[key]
    n = 41
    if args.currents:
        lo, hi, n = args.currents.split(":")
        lo, hi, n = float(lo), float(hi), int(n)
    currents = np.linspace(lo, hi, n)
    current = current0 if args.current is None else args.current
    started = time.perf_counter()
    simulate = not args.no_simulate
    scan = dynamics.bifurcation_scan(model, currents, bounds,
                                     dt=dt if simulate else None, duration=duration)
    rates = (np.asarray(dynamics.fi_curve(model, currents, dt, duration)) if simulate
             else None)
    fps = dynamics.fixed_points(model, current, bounds)
    seconds = time.perf_counter() - started

    print(f"{type(model).__name__}{' ' + args.preset if args.preset else ''}: "
          f"fixed points at I = {current:g}")
    for p in fps:
        lam = ", ".join(f"{z.real:.4g}{z.imag:+.4g}j" for z in p.eigenvalues)
        print(f"  {p.kind:15s} y* = {np.array2string(p.state, precision=5)}  λ = [{lam}]")
    print(f"bifurcations for I in [{lo:g}, {hi:g}] ({n} currents):")
    for b in scan.bifurcations or []:
        extra = (f", onset frequency {1000 * abs(b.eigenvalues[0].imag) / (2 * np.pi):.4g} Hz"
                 if b.kind == "hopf" else "")
        print(f"  {b.kind:11s} at I = {b.current:.10g}{extra}")
    if not scan.bifurcations:
        print("  none found")
    if rates is not None:
        firing = currents[rates > 0]
        print("F–I: " + (f"fires from I = {firing.min():g} (grid), "
                         f"max {rates.max():.4g} Hz" if firing.size else "silent"))
    print(f"({seconds:.1f} s)")

    if args.json:
        out = {
            "model": type(model).__name__, "preset": args.preset, "current": current,
            "fixed_points": [{"state": p.state.tolist(), "kind": p.kind,
                              "eigenvalues_real": np.real(p.eigenvalues).tolist(),
                              "eigenvalues_imag": np.imag(p.eigenvalues).tolist()}
                             for p in fps],
            "bifurcations": [{"kind": b.kind, "current": b.current,
                              "state": b.state.tolist()} for b in scan.bifurcations],
            "currents": currents.tolist(),
            "rates_hz": None if rates is None else rates.tolist(),
            "v_min": None if scan.v_min is None else scan.v_min.tolist(),
            "v_max": None if scan.v_max is None else scan.v_max.tolist(),
            "seconds": seconds,
        }
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from ._plot import plot_bifurcation, plot_fi_curve, plot_phase_portrait

        two_d = model.n_state == 2
        ncols = 2 + two_d + 0
        fig, axes = plt.subplots(1, ncols, figsize=(5 * ncols, 4.2))
        k = 0
        if two_d:
            from ..simulation import simulate

            tr = simulate(model, np.full(int(duration / dt), current), dt)
            plot_phase_portrait(model, current, bounds, ax=axes[0], trajectory=tr)
            k = 1
        plot_bifurcation(scan, ax=axes[k])
        axes[k].set_title(f"{type(model).__name__}: bifurcation diagram", fontsize=9)
        if rates is not None:
            plot_fi_curve(currents, rates, ax=axes[k + 1])
        axes[k + 1].set_title("F–I curve (steady state, step from rest)", fontsize=9)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"wrote {args.plot}")
    return 0
