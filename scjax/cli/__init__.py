"""The `scjax` command: `scjax {demo,parity,reference,fit,analyze} ...`.

One module per command (`_demo`, `_parity`, `_reference`, `_fit`, `_analyze`), each with
`HELP` (its one-line summary), `X64` (whether it runs in float64), `configure(parser)` and
`run(args) -> int`. Errors follow one contract (`_common`): a user error is one line
`scjax <command>: error: ...` on stderr and exit 2, a negative verdict exit 1, an internal
error exit 1 (traceback with `--debug` or `SCJAX_DEBUG=1`), Ctrl-C exit 130.

float64: importing scjax never changes JAX's global configuration. `main` is the
application's entry point, so it may: for the commands whose `X64` is True (every one that
claims parity or reports reference numbers) it calls
`jax.config.update("jax_enable_x64", True)` after parsing and before running the command.
`scjax fit` runs in JAX's default precision unless given `--x64`.
"""

import argparse
import importlib
import sys

from ._common import ArgumentParser, UsageError, run_guarded

#: command → its module (relative to this package)
COMMANDS: dict[str, str] = {
    "demo": "._demo",
    "parity": "._parity",
    "reference": "._reference",
    "fit": "._fit",
    "analyze": "._analyze",
}


def _version() -> str:
    import scjax

    return scjax.__version__


def build_parser() -> ArgumentParser:
    """The `scjax` parser with one sub-parser per command."""
    common = ArgumentParser(add_help=False)  # the subparsers take parents of their own class
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the traceback of an internal error",
    )
    parser = ArgumentParser(
        prog="scjax", parents=[common], description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--version", action="version", version=f"scjax {_version()}")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=ArgumentParser
    )
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(module_name, __name__)
        doc = module.__doc__ or module.HELP
        command = sub.add_parser(
            name,
            help=module.HELP,
            description=doc,
            parents=[common],
            epilog=getattr(module, "EPILOG", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.configure(command)
        command.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `scjax` with `argv` (default `sys.argv[1:]`); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = "scjax" + (f" {argv[0]}" if argv and argv[0] in COMMANDS else "")

    def parse_and_run() -> int:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as done:  # --help, --version: argparse printed them
            return int(done.code or 0)
        except UsageError as err:
            # The top parser reports arguments no sub-parser took ("unrecognized arguments"):
            # they belong to the command's line, so its name heads the message.
            if err.prog == "scjax":
                err.prog = prog
            raise
        module = args._module
        if module.X64 or getattr(args, "x64", False):
            import jax

            # The application's entry point, not an import side effect: see the docstring.
            jax.config.update("jax_enable_x64", True)
        return module.run(args)

    debug = "--debug" in argv
    return run_guarded(prog, parse_and_run, debug=debug)


__all__ = ["COMMANDS", "UsageError", "build_parser", "main"]
