"""What every `scjax` command shares: the error contract, the argument parser, atomic writes.

The error contract of the command line:

- a user error (a bad flag value, an unknown name, an unreadable or malformed input file, an
  output that cannot be written) prints one line `scjax <command>: error: <message>` on
  stderr and exits 2;
- a run that completes with a negative verdict (a parity failure, a diverged fit) exits 1;
- an internal error (a bug) prints one line and exits 1; its traceback is printed only with
  `--debug` or `SCJAX_DEBUG=1`;
- Ctrl-C prints one line and exits 130 (128 + SIGINT).

Outputs are written atomically: into a temporary file in the target's folder, then
`os.replace`d onto the target, so a target is either the complete new file or untouched.
"""

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator

#: Setting this environment variable to a non-empty value other than "0" prints tracebacks.
DEBUG_ENV = "SCJAX_DEBUG"

EXIT_OK = 0
EXIT_FAILED = 1  # a negative verdict, or an internal error
EXIT_USAGE = 2  # a user error
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A user error: reported as one line, exit 2. `prog` is the command's name."""

    def __init__(self, message: str, prog: str | None = None):
        super().__init__(message)
        self.prog = prog


class RunFailed(Exception):
    """A run that finished without a usable result (e.g. a diverged fit): one line, exit 1."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises `UsageError` instead of printing the usage block and exiting, so
    every user error is one line (argparse's own `error` prints two and exits itself)."""

    def error(self, message: str):
        raise UsageError(message, prog=self.prog)


def one_line(text: object) -> str:
    """A message folded onto one line (multi-line library messages keep their content)."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def debug_requested(flag: bool = False) -> bool:
    return flag or os.environ.get(DEBUG_ENV, "") not in ("", "0")


def _traceback_on_request(debug: bool) -> None:
    if debug_requested(debug):
        traceback.print_exc()


def run_guarded(prog: str, command: Callable[[], int], *, debug: bool = False) -> int:
    """Run `command()` under the error contract above; returns the exit status."""
    import equinox as eqx

    def report(kind: str, err: BaseException) -> None:
        name = getattr(err, "prog", None) or prog
        print(f"{name}: {kind}: {one_line(err) or type(err).__name__}", file=sys.stderr)

    try:
        return int(command() or EXIT_OK)
    except UsageError as err:
        report("error", err)
        return EXIT_USAGE
    except (ValueError, OSError) as err:
        # The library's contract: bad input raises ValueError naming the argument. OSError:
        # a file that cannot be read or written. Both are fixed by the user, not the code.
        _traceback_on_request(debug)
        report("error", err)
        return EXIT_USAGE
    except eqx.EquinoxRuntimeError as err:
        # A run-time check (`eqx.error_if`) of a compiled run tripped: its first line names
        # the condition; the rest is equinox's generic advice.
        _traceback_on_request(debug)
        first = next((s for s in str(err).splitlines() if s.strip()), type(err).__name__)
        print(f"{prog}: error: {first.strip()}", file=sys.stderr)
        return EXIT_USAGE
    except RunFailed as err:
        report("error", err)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001 (a bug: say so in one line, traceback on request)
        if debug_requested(debug):
            traceback.print_exc()
            report("internal error", err)
        else:
            print(
                f"{prog}: internal error: {type(err).__name__}: {one_line(err)} (rerun with "
                f"--debug or {DEBUG_ENV}=1 for the traceback)",
                file=sys.stderr,
            )
        return EXIT_FAILED


# --- atomic output ---------------------------------------------------------------------------


class Staged:
    """Temporary files staged next to their targets; see `staged_outputs`."""

    def __init__(self):
        self._pairs: list[tuple[str, str]] = []

    def path(self, target: str | os.PathLike) -> str:
        """A new temporary path in `target`'s folder, with `target`'s extension (writers that
        infer the format from it still work). Raises `UsageError` when the folder cannot be
        created or written."""
        target = os.fspath(target)
        folder = os.path.dirname(os.path.abspath(target))
        base = os.path.basename(target)
        try:
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{base}.", suffix=f".tmp{_ext(base)}")
        except OSError as err:
            raise UsageError(f"cannot write {target}: {err.strerror or err}") from None
        os.close(fd)
        self._pairs.append((tmp, target))
        return tmp

    def write_text(self, target: str | os.PathLike, text: str) -> None:
        with open(self.path(target), "w", encoding="utf-8") as f:
            f.write(text)

    def write_json(self, target: str | os.PathLike, obj, *, indent: int | None = 2) -> None:
        """Strict JSON (see `dumps_json`): serialised before anything is staged."""
        self.write_text(target, dumps_json(obj, indent=indent) + "\n")

    def savefig(self, fig, target: str | os.PathLike, **kwargs) -> None:
        fig.savefig(
            self.path(target), format=_ext(os.fspath(target)).lstrip(".") or "png", **kwargs
        )


@contextlib.contextmanager
def staged_outputs() -> Iterator[Staged]:
    """Write several outputs all or none: write each into `staged.path(target)`; when the
    block ends without error every temporary file is `os.replace`d onto its target, otherwise
    all of them are removed and no target is touched. A failed write is a `UsageError`."""
    staged = Staged()
    try:
        yield staged
        for tmp, target in staged._pairs:
            os.replace(tmp, target)
    except OSError as err:
        targets = dict(staged._pairs)
        name = targets.get(err.filename, err.filename) or ", ".join(targets.values())
        raise UsageError(f"cannot write {name}: {err.strerror or err}") from None
    finally:
        for tmp, _ in staged._pairs:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _ext(name: str) -> str:
    return os.path.splitext(name)[1]


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` to `path` atomically."""
    with staged_outputs() as staged:
        staged.write_text(path, text)


def dumps_json(obj, *, indent: int | None = 2) -> str:
    """Strict JSON (no NaN or Infinity, which `json.loads` elsewhere would reject).

    Raises `RunFailed` naming the problem when `obj` holds a non-finite number.
    """
    try:
        return json.dumps(obj, indent=indent, allow_nan=False)
    except ValueError as err:
        raise RunFailed(f"the result holds a non-finite number and is not written ({err})") from err


def write_json(path: str | os.PathLike, obj, *, indent: int | None = 2) -> None:
    """Write `obj` as strict JSON to `path` atomically (nothing is written if it is not)."""
    with staged_outputs() as staged:
        staged.write_json(path, obj, indent=indent)


def savefig(fig, path: str | os.PathLike, **kwargs) -> None:
    """`fig.savefig` atomically."""
    with staged_outputs() as staged:
        staged.savefig(fig, path, **kwargs)


def import_pyplot(what: str):
    """matplotlib's pyplot on the Agg backend, or a `UsageError` saying what needs it."""
    try:
        import matplotlib
    except ImportError:
        raise UsageError(f"{what} needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def json_safe(obj):
    """`obj` with every non-finite float replaced by None (JSON null), for reports where an
    infinite error is a legitimate measurement (a diverged backend) rather than a failure."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj
