"""Regenerate the golden traces: `python reference/data/make_golden.py`.

Each system of `scjax.adaptive.SYSTEMS` is solved by the SciPy backend (DOP853, rtol 1e-10,
atol 1e-12, events for resets and crossings; NumPy vector fields independent of JAX) over its
cross-validation span, sampled every 0.1 ms, and stored as `<name>.npz` with arrays
`t`, `y` (float64), `spike_times`, and scalars `current`, `rtol`, `atol`.
"""

import pathlib
import sys
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from scjax.backends import scipy as scipy_backend  # noqa: E402
from scjax.adaptive import SYSTEMS  # noqa: E402

HERE = pathlib.Path(__file__).parent


def main(names=None) -> None:
    for name in names or SYSTEMS:
        system = SYSTEMS[name]
        t = time.perf_counter()
        sol = scipy_backend.solve(system.make(), (0.0, system.span), system.current)
        traj, spike_times = sol.trajectory, sol.spike_times_array()
        np.savez_compressed(
            HERE / f"{name}.npz", t=np.asarray(traj.t), y=np.asarray(traj.y),
            spike_times=spike_times, current=system.current, rtol=scipy_backend.RTOL,
            atol=scipy_backend.ATOL,
        )
        print(f"{name:20s} {time.perf_counter() - t:6.1f} s  {len(spike_times)} spikes", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or None)
