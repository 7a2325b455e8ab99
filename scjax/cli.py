"""The `scjax` command."""

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scjax", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="simulate every model with every integrator and plot")
    demo.add_argument("--out", default="experiments/results")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        return run_demo(args.out)
    return 2


if __name__ == "__main__":
    sys.exit(main())
