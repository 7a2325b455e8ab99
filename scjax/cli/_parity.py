"""`scjax parity`: compare `scjax.simulate` (float64) with every available backend on the
shared deterministic traces of `scjax.parity`, print the table, write it as JSON.

    $ scjax parity                       # defaults + 5 random parameter sets, every backend
    $ scjax parity --backends rust --models adex --json /tmp/parity.json

Exit status: 0 when every comparison is within tolerance; 1 when one is not, when nothing
could be compared (every requested backend unavailable), or with `--strict` when a requested
backend is unavailable; 2 on a usage error.
"""

import os

from ._common import RunFailed, UsageError, json_safe, write_json

HELP = "compare JAX with every available backend on shared traces"
X64 = True


def configure(parser) -> None:
    from scjax import parity

    parser.add_argument("--models", nargs="+", choices=tuple(parity.CASES), default=None)
    parser.add_argument("--backends", nargs="+", choices=tuple(parity.BACKENDS), default=None)
    parser.add_argument(
        "--integrators", nargs="+", default=None, help="subset of " + ", ".join(_integrators())
    )
    parser.add_argument(
        "--n-random",
        type=int,
        default=5,
        help="random parameter sets per model besides the defaults (>= 0)",
    )
    parser.add_argument(
        "--steps", type=int, default=parity.TRACE_STEPS, help="steps of the shared trace (>= 1)"
    )
    parser.add_argument(
        "--json",
        default=os.path.join("experiments", "results", "parity.json"),
        help="where to write the report ('' to skip)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="also fail when a requested backend is unavailable"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every comparison")


def _integrators() -> tuple[str, ...]:
    from scjax import parity

    return tuple(dict.fromkeys(i for case in parity.CASES.values() for i in case.integrators))


def format_table(report: dict) -> str:
    """One line per model × integrator × backend (worst parameter set), then the verdict."""
    from scjax import parity

    header = (
        f"{'model':15s} {'integrator':10s} {'backend':7s} {'status':6s} "
        f"{'sets':>4s} {'max_abs':>9s} {'max_rel':>9s} {'spikes':>6s} {'Δspk':>4s}"
    )
    lines = [header]
    groups: dict[tuple, list] = {}
    for r in report["rows"]:
        groups.setdefault((r["model"], r["integrator"], r["backend"]), []).append(r)
    for (model, integrator, backend), rs in groups.items():
        head = f"{model:15s} {integrator:10s} {backend:7s}"
        if not rs[0].get("available"):
            lines.append(f"{head} n/a    {rs[0]['reason']}")
            continue
        ok = all(r["passed"] for r in rs)
        diffs = [abs(r["spike_count_diff"]) for r in rs if r["spike_count_diff"] is not None]
        lines.append(
            f"{head} {'pass' if ok else 'FAIL':6s} {len(rs):4d} "
            f"{max(r['max_abs'] for r in rs):9.2e} {max(r['max_rel'] for r in rs):9.2e} "
            f"{sum(r['spikes_ref'] for r in rs):6d} {max(diffs, default=0):4d}"
        )
    if report["n_checked"]:
        verdict = "PASS" if report["passed"] else "FAIL"
        lines.append(
            f"{verdict}: {report['n_checked'] - report['n_failed']}/"
            f"{report['n_checked']} comparisons within tolerance (rtol "
            f"{parity.NATIVE_RTOL:g}, HH V atol {parity.HH_VOLTAGE_ATOL:g} mV, "
            "identical spikes)"
        )
    return "\n".join(lines)


def run(args) -> int:
    from scjax import parity

    if args.integrators is not None:
        known = _integrators()
        unknown = [i for i in args.integrators if i not in known]
        if unknown:
            raise UsageError(
                f"argument --integrators: {unknown[0]!r} is not an integrator of "
                f"the parity suite (choose from {', '.join(known)})"
            )
        models = args.models or tuple(parity.CASES)
        if not any(i in parity.CASES[m].integrators for m in models for i in args.integrators):
            raise UsageError(
                f"argument --integrators: none of {args.integrators} is run for "
                f"the models {list(models)}"
            )
    report = parity.run_parity(
        models=args.models,
        backends=args.backends,
        integrators=args.integrators,
        n_random=args.n_random,
        n_steps=args.steps,
        log=print if args.verbose else None,
    )
    print(format_table(report))
    if args.json:
        # Non-finite errors (a diverged backend) are measurements here: written as null.
        write_json(args.json, json_safe(report), indent=1)
        print(f"wrote {args.json}")
    unavailable = {b: s for b, s in report["backends"].items() if s is not True}
    if report["n_checked"] == 0:
        reasons = "; ".join(f"{b}: {s}" for b, s in unavailable.items()) or "none requested"
        raise RunFailed(f"nothing was compared: no requested backend is available ({reasons})")
    if args.strict and unavailable:
        raise RunFailed(f"unavailable backends: {', '.join(unavailable)} (--strict)")
    return 0 if report["passed"] else 1
