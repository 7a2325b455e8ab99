"""`scjax reference` as an experiment: cold suite time (one process, all 14 systems, JIT
included) and warm per-solve medians, compared with the seed's Julia figures; writes
experiments/results/reference_suite.json. Run: `.venv/bin/python experiments/reference_suite.py`.
"""

import pathlib
import sys


from scjax import reference  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent / "results" / "reference_suite.json"

if __name__ == "__main__":
    steps = sys.argv[1] if len(sys.argv) > 1 else "1000"
    sys.exit(reference.main([steps, "--out", str(OUT)]))
