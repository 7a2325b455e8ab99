"""One run of a BrainPy contender (subprocess of bench_population.py, run in its own venv).
Same JSON spec as jax_worker.py plus "method": "rk4" | "exp_auto" (HH) or "izh2003".

HH is BrainPy's own `bp.dyn.HHLTC` (its rates use `bm.exprel`, as scjax) with scjax's
parameters (gL = 0.3, spike = upward crossing of V_th = 0 mV, V0 = -65 mV, gates at steady
state). Izhikevich: BrainPy's `bp.dyn.Izhikevich` integrates with its ODE methods, not the
2003 scheme, so the scheme is written as a `bp.DynamicalSystem` update on `bm.Variable`s.
`DSRunner` compiles on its first `run`; the run is repeated after a reset and the second one
is timed, setup_s = first - second."""

import json
import sys
import time

spec = json.loads(sys.argv[1])
setup_start = time.perf_counter()
import brainpy as bp
import brainpy.math as bm
import numpy as np

if spec["dtype"] == "float64":
    bm.enable_x64()
dtype = getattr(np, spec["dtype"])
size, steps = spec["n"], spec["steps"]
current = bm.asarray((5.0 + 10.0 * np.arange(size) / size).astype(dtype))


class Population(bp.DynamicalSystem):
    def __init__(self):
        super().__init__()
        if spec["model"] == "hh":
            self.neurons = bp.dyn.HHLTC(
                size, method=spec["method"], gL=0.3, V_th=0.0, V_initializer=bp.init.Constant(-65.0)
            )
        self.count = bm.Variable(bm.zeros(size, dtype=bm.int32))
        if spec["model"] == "izh":
            self.v = bm.Variable(bm.full(size, -65.0, dtype=dtype))
            self.u = bm.Variable(bm.full(size, 0.2 * -65.0, dtype=dtype))

    def reset_state(self, *args, **kwargs):
        self.count.value = bm.zeros(size, dtype=bm.int32)
        if spec["model"] == "hh":
            self.neurons.reset_state()
        else:
            self.v.value = bm.full(size, -65.0, dtype=dtype)
            self.u.value = bm.full(size, 0.2 * -65.0, dtype=dtype)

    def update(self):
        if spec["model"] == "hh":
            spike = self.neurons(current)
        else:
            half = 0.5 * bp.share.load("dt")
            v, u = self.v.value, self.u.value
            v = v + half * (0.04 * v * v + 5.0 * v + 140.0 - u + current)
            v = v + half * (0.04 * v * v + 5.0 * v + 140.0 - u + current)
            u = u + 2.0 * half * (0.02 * (0.2 * v - u))
            spike = v >= 30.0
            self.v.value = bm.where(spike, -65.0, v)
            self.u.value = bm.where(spike, u + 8.0, u)
        self.count.value += spike.astype(bm.int32)


dt = 0.01 if spec["model"] == "hh" else 0.5
bm.set_dt(dt)
population = Population()
runner = bp.DSRunner(population, monitors=[], progress_bar=False, jit=True, dt=dt)
start = time.perf_counter()
runner.run(steps * dt)
first_s = time.perf_counter() - start
population.reset_state()
start = time.perf_counter()
runner.run(steps * dt)
counts = np.asarray(population.count.value)
run_s = time.perf_counter() - start
setup_s = (start - setup_start) - first_s + max(first_s - run_s, 0.0)
np.save(spec["counts_out"], counts.astype(np.int64))
print(
    json.dumps(
        {
            "setup_s": setup_s,
            "run_s": run_s,
            "path": f"bp.DSRunner {spec['method']}",
            "version": bp.__version__,
            "first_run_s": first_s,
        }
    )
)
