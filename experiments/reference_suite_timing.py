"""The reference suite's timings against the seed's Julia figures.

Runs `scjax reference` (cold suite time: one process, all 14 systems, JIT included; warm
per-solve medians), then divides by the seed's Julia timings below and writes
experiments/results/reference_suite.json.
Run: `.venv/bin/python experiments/reference_suite_timing.py [STEPS]`.
"""

import json
import pathlib
import sys
import tempfile

from scjax.cli import main

OUT = pathlib.Path(__file__).resolve().parent / "results" / "reference_suite.json"

#: The seed's Julia warm per-solve figures (ms).
SEED_JULIA_WARM_MS: dict[str, float] = {
    "hodgkin_huxley": 2.07,
    "izhikevich": 0.78,
    "adex": 0.58,
    "fitzhugh_nagumo": 0.70,
    "morris_lecar": 0.63,
}
#: The seed's cold suite wall time (s): its reported range 25–31 s.
SEED_JULIA_COLD_SUITE_S: tuple[float, float] = (25.0, 31.0)


def compare_with_seed(table: dict) -> dict:
    """`table` (the JSON of `scjax reference`) with the ratios to the seed's Julia times."""
    ratios = {
        row["system"]: row["warm_median_ms"] / SEED_JULIA_WARM_MS[row["system"]]
        for row in table["systems"]
        if row["system"] in SEED_JULIA_WARM_MS
    }
    return {
        **table,
        "seed_julia_warm_ms": SEED_JULIA_WARM_MS,
        "ratio_vs_seed_julia_warm": ratios,
        "seed_julia_cold_suite_s": list(SEED_JULIA_COLD_SUITE_S),
        "ratio_vs_seed_julia_cold": table["cold_suite_s"] / (sum(SEED_JULIA_COLD_SUITE_S) / 2),
    }


if __name__ == "__main__":
    steps = sys.argv[1] if len(sys.argv) > 1 else "1000"
    with tempfile.TemporaryDirectory() as tmp:
        raw = pathlib.Path(tmp) / "suite.json"
        code = main(["reference", steps, "--out", str(raw)])
        if code:
            sys.exit(code)
        table = compare_with_seed(json.loads(raw.read_text()))
    for name, r in table["ratio_vs_seed_julia_warm"].items():
        print(f"  {name:18s} {r:6.2f}x the seed's Julia warm time")
    print(f"  cold suite {table['ratio_vs_seed_julia_cold']:.2f}x the seed's Julia cold time")
    OUT.write_text(json.dumps(table, indent=2) + "\n")
    print(f"wrote {OUT}")
