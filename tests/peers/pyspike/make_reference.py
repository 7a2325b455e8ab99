"""Reference ISI- and SPIKE-distances computed by PySpike itself, for
tests/test_analysis_spikes.py (CI does not install PySpike; the test reads reference.json).

Regenerate in a throwaway venv:

    python3 -m venv /tmp/pyspike-venv && /tmp/pyspike-venv/bin/pip install pyspike
    /tmp/pyspike-venv/bin/python tests/peers/pyspike/make_reference.py

Each case records two PySpike values per distance:
- `isi`, `spike`: PySpike's default, `SpikeTrain(times, [t_start, t_stop])`, i.e. with its
  edge correction (Kreuz, Mulansky & Bozanic 2015, J. Neurophysiol. 113:3432; Mulansky &
  Kreuz 2016, SoftwareX 5:183) — what `scjax.analysis.isi_distance(...,
  edge_correction=True)` computes;
- `isi_aux`, `spike_aux`: the edges passed to PySpike as spikes, `SpikeTrain([t_start, *times,
  t_stop], [t_start, t_stop])` — Kreuz et al. (2013)'s auxiliary spikes, scjax's default.
"""

import json
import os
import sys

import numpy as np
import pyspike


def _values(t1, t2, t_start, t_stop):
    edges = [t_start, t_stop]
    a, b = pyspike.SpikeTrain(t1, edges), pyspike.SpikeTrain(t2, edges)
    a_aux = pyspike.SpikeTrain([t_start, *t1, t_stop], edges)
    b_aux = pyspike.SpikeTrain([t_start, *t2, t_stop], edges)
    return {
        "isi": float(pyspike.isi_distance(a, b)),
        "spike": float(pyspike.spike_distance(a, b)),
        "isi_aux": float(pyspike.isi_distance(a_aux, b_aux)),
        "spike_aux": float(pyspike.spike_distance(a_aux, b_aux)),
    }


def cases():
    """(name, t1, t2, t_start, t_stop): hand cases for every branch of PySpike's edge
    treatment, then random trains."""
    yield "issue example", [300.0], [700.0], 0.0, 1000.0
    yield "one spike vs empty", [5.0], [], 0.0, 10.0
    yield "both empty", [], [], 0.0, 10.0
    yield "identical", [1.0, 2.5, 7.0], [1.0, 2.5, 7.0], 0.0, 10.0
    yield "spike on t_start", [0.0, 3.0, 6.5], [1.0, 4.0], 0.0, 10.0
    yield "only spike on t_start", [0.0], [2.0, 6.0, 9.0], 0.0, 10.0
    yield "spike on t_stop", [2.0, 5.0, 10.0], [1.0, 4.5, 8.0], 0.0, 10.0
    yield "first ISI shorter than the edge", [4.0, 5.0, 9.0], [1.0, 8.0], 0.0, 10.0
    yield "first ISI longer than the edge", [0.5, 6.0], [2.0, 3.0, 7.5], 0.0, 10.0
    yield "coincident spikes", [1.0, 4.0, 6.0], [2.0, 4.0, 6.0, 9.0], 0.0, 10.0
    yield "shifted window", [13.0, 17.5, 21.0, 28.0], [12.0, 19.0, 27.5], 10.0, 30.0
    yield "spikes outside the window", [-3.0, 2.0, 5.0, 12.0], [1.0, 6.0, 11.0], 0.0, 10.0
    rng = np.random.default_rng(2024)
    for k in range(8):
        t_stop = 100.0
        t1 = np.sort(rng.uniform(0.0, t_stop, rng.integers(2, 15))).round(6).tolist()
        t2 = np.sort(rng.uniform(0.0, t_stop, rng.integers(2, 15))).round(6).tolist()
        yield f"random {k}", t1, t2, 0.0, t_stop
    # Poisson-like trains with very different rates (the edge ISIs then differ most).
    t1 = np.sort(rng.uniform(0.0, 1000.0, 40)).round(6).tolist()
    t2 = np.sort(rng.uniform(0.0, 1000.0, 5)).round(6).tolist()
    yield "rates 40 vs 5", t1, t2, 0.0, 1000.0


def main() -> int:
    out = []
    for name, t1, t2, t_start, t_stop in cases():
        out.append(
            {
                "name": name,
                "t1": t1,
                "t2": t2,
                "t_start": t_start,
                "t_stop": t_stop,
                **_values(t1, t2, t_start, t_stop),
            }
        )
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")
    with open(path, "w") as f:
        json.dump({"pyspike": _version(), "numpy": np.__version__, "cases": out}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(out)} cases to {path}")
    return 0


def _version() -> str:
    from importlib.metadata import version

    return version("pyspike")


if __name__ == "__main__":
    sys.exit(main())
