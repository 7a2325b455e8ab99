"""One run of the Brian2 cpp_standalone contender (subprocess of bench_population.py, run in
its own venv). Same JSON spec as jax_worker.py plus "build_dir". setup_s: code generation +
C++ compile + process start, i.e. the build's wall time minus the simulated loop's
(`device._last_run_time`, measured by the generated binary itself). "threads": Brian2's
OpenMP threads (`prefs.devices.cpp_standalone.openmp_threads`; 0, Brian's default, is no
OpenMP at all)."""

import json
import sys
import time

spec = json.loads(sys.argv[1])
setup_start = time.perf_counter()
import numpy as np
from brian2 import NeuronGroup, SpikeMonitor, defaultclock, device, ms, prefs, run, set_device

set_device("cpp_standalone", directory=spec["build_dir"], build_on_run=False)
prefs.core.default_float_dtype = getattr(np, spec["dtype"])
prefs.devices.cpp_standalone.openmp_threads = spec.get("threads", 0)
size, steps = spec["n"], spec["steps"]
if spec["model"] == "hh":
    # Classic HH in mV/ms units without Brian's unit system (dimensionless, time in ms through
    # `dt` expressed in ms); exprel as scjax. A spike is an upward crossing of 0 mV: the
    # previous step's "above" flag is stored at the end of each step.
    defaultclock.dt = 0.01 * ms
    eqs = """
    dv/dt = (I - 120*m**3*h*(v - 50) - 36*n**4*(v + 77) - 0.3*(v + 54.387)) / ms : 1
    dm/dt = (1/exprel(-(v + 40)/10)*(1 - m) - 4*exp(-(v + 65)/18)*m) / ms : 1
    dh/dt = (0.07*exp(-(v + 65)/20)*(1 - h) - 1/(1 + exp(-(v + 35)/10))*h) / ms : 1
    dn/dt = (0.1/exprel(-(v + 55)/10)*(1 - n) - 0.125*exp(-(v + 65)/80)*n) / ms : 1
    I : 1 (constant)
    above : boolean
    """
    group = NeuronGroup(size, eqs, method="rk4", threshold="v >= 0 and not above", reset="")
    group.run_regularly("above = v >= 0", when="end")
    v0 = -65.0
    am, bm = 2.5 / np.expm1(2.5), 4.0
    ah, bh = 0.07, 1.0 / (1.0 + np.exp(3.0))
    an, bn = 0.1 / np.expm1(1.0), 0.125
    group.v, group.m, group.h, group.n = v0, am / (am + bm), ah / (ah + bh), an / (an + bn)
else:
    # Izhikevich (2003): v by two dt/2 Euler half steps, then u with the new v, as a
    # run_regularly update (Brian's built-in methods have no such scheme); reset by Brian.
    defaultclock.dt = 0.5 * ms
    eqs = """
    v : 1
    u : 1
    I : 1 (constant)
    """
    group = NeuronGroup(size, eqs, threshold="v >= 30", reset="v = -65\nu = u + 8")
    group.run_regularly(
        """
    v = v + 0.25*(0.04*v*v + 5*v + 140 - u + I)
    v = v + 0.25*(0.04*v*v + 5*v + 140 - u + I)
    u = u + 0.5*(0.02*(0.2*v - u))
    """,
        when="groups",
    )
    group.v, group.u = -65.0, 0.2 * -65.0
group.I = 5.0 + 10.0 * np.arange(size) / size
monitor = SpikeMonitor(group, record=False)
run(steps * defaultclock.dt)
device.build(directory=spec["build_dir"], compile=True, run=True, clean=False)
total_s = time.perf_counter() - setup_start
run_s = float(device._last_run_time)
np.save(spec["counts_out"], np.asarray(monitor.count[:], dtype=np.int64))
import brian2

print(
    json.dumps(
        {
            "setup_s": total_s - run_s,
            "run_s": run_s,
            "path": (
                f"cpp_standalone, openmp_threads={spec.get('threads', 0)}, "
                f"flags {' '.join(prefs.codegen.cpp.extra_compile_args_gcc)}"
            ),
            "version": brian2.__version__,
        }
    )
)
