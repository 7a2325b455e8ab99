"""The `scjax` command: `scjax demo | parity | reference | fit | analyze ...`.

Each subcommand lives with the code it drives and exposes `main(argv) -> int`; this file only
dispatches, so the modules stay importable without argparse side effects.
"""

import importlib
import sys

#: subcommand → (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("scjax._demo", "simulate every model with every integrator, check parity, plot"),
    "parity": ("scjax.parity", "compare JAX with every available backend on shared traces"),
    "reference": ("scjax.reference", "run the reference suite and print per-system timings"),
    "fit": ("scjax._fit_cli", "fit model parameters from a TOML/JSON config"),
    "analyze": ("scjax.analysis._cli", "phase plane, fixed points, bifurcation scan of a model"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in SUBCOMMANDS:
        print("usage: scjax {" + ",".join(SUBCOMMANDS) + "} [args]\n")
        for name, (_, text) in SUBCOMMANDS.items():
            print(f"  {name:10s} {text}")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    module = importlib.import_module(SUBCOMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
