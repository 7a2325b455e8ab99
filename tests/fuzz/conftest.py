"""Hypothesis profiles of the property-based entry-point tests.

`SCJAX_FUZZ_PROFILE` selects one: "ci" (default, 50 examples per test, what `make test` runs)
or "thorough" (500 examples per test; its tests are marked `slow`). Both are derandomized, so
a run is reproducible, and have no deadline (the first example of a test pays for the
compile); the wall-clock guard in `_outcome` catches hangs instead.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

_COMMON = dict(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
settings.register_profile("ci", max_examples=50, **_COMMON)
settings.register_profile("thorough", max_examples=500, **_COMMON)

PROFILE = os.environ.get("SCJAX_FUZZ_PROFILE", "ci")
if PROFILE not in ("ci", "thorough"):
    raise ValueError(f"SCJAX_FUZZ_PROFILE must be 'ci' or 'thorough', got {PROFILE!r}")
settings.load_profile(PROFILE)

_HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    if PROFILE != "thorough":
        return
    for item in items:
        if str(item.path).startswith(_HERE):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter):
    from ._outcome import TALLY

    if not TALLY:
        return
    terminalreporter.section(f"fuzz outcomes (profile {PROFILE})")
    for entry, counts in sorted(TALLY.items()):
        total = sum(counts.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        terminalreporter.write_line(f"{entry}: {total} cases: {detail}")
