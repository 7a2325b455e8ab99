"""The property every fuzz test asserts, and the tally of outcomes by class.

An entry point given any input either returns a result or raises a `ValueError` whose message
names one of the arguments; any other exception, or a call that runs past the wall-clock
guard, fails the test with the input shown.
"""

import collections
import contextlib
import os
import signal
import threading

#: entry point → {outcome class: count}, printed at the end of the session (conftest).
TALLY: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)

#: print each ValueError's message (to see which checks the examples reach)
VERBOSE = os.environ.get("SCJAX_FUZZ_VERBOSE", "") not in ("", "0")

#: seconds one call may run before it counts as a hang
GUARD_S = 30


class Hang(Exception):
    pass


@contextlib.contextmanager
def wall_clock(seconds: int = GUARD_S):
    """Raise `Hang` in the main thread after `seconds` (SIGALRM; a no-op off the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _alarm(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def outcome(entry: str, call, names, inputs, *, allowed=()):
    """Run `call()`; return its result, or None after a `ValueError` naming one of `names`.

    `allowed`: further (exception type, message fragment) pairs that are documented outcomes
    (e.g. a run-time divergence error with `throw=True`); they are tallied by type.
    """
    try:
        with wall_clock():
            result = call()
    except ValueError as err:
        message = str(err)
        if not any(name in message for name in names):
            raise AssertionError(
                f"{entry}: ValueError names none of {sorted(names)}: {message!r}\ninputs: {inputs}"
            ) from err
        TALLY[entry]["ValueError"] += 1
        if VERBOSE:
            print(f"[{entry}] ValueError: {message[:160]}")
        return None
    except Hang as err:
        TALLY[entry]["hang"] += 1
        raise AssertionError(f"{entry}: hang ({err})\ninputs: {inputs}") from err
    except Exception as err:
        for kind, fragment in allowed:
            if isinstance(err, kind) and fragment in str(err):
                TALLY[entry][type(err).__name__] += 1
                return None
        TALLY[entry]["other"] += 1
        raise AssertionError(f"{entry}: {type(err).__name__}: {err}\ninputs: {inputs}") from err
    TALLY[entry]["result"] += 1
    return result
