"""The Pallas kernel compiled for an H200 (sm_90) on a machine without a GPU.

    python experiments/gpu/offline_triton.py [--blocks 128,256,512,1024] [--warps 4,8]
        [--dtypes float32,float64] [--math libdevice,fast] [--steps 10000]
        [--neurons 1000000] [--workloads hh_rk4,...] [--out FILE]

What a device run would compile, checked here, and what its instruction mix allows:

1. JAX lowers `simulate_batch(..., loop=PallasLoop(block, interpret=False, num_warps=w))` for
   `lowering_platforms=("cuda",)` on the CPU, exactly as on a GPU, for the workloads of
   `bench_pallas.py` (HH RK4 + constant current, Izhikevich + constant, HH RK4 + constant +
   Ornstein–Uhlenbeck noise drawn in the kernel, Izhikevich with in-step events, HH with
   `RosenbrockEuler(linear_solve="elimination")`) with each
   `PallasLoop(math=)` (libdevice's exp and division, or the opt-in fast-math
   instructions), spike counts only, and at
   256 × 4 (libdevice) also with `spikes="times"` and `"raster"`. The kernel's Triton IR is
   taken from its `__gpu$xla.gpu.triton` custom call.
2. Upstream Triton (the `triton` wheel, pinned below, in a throwaway venv `build/triton-venv`
   made on first use: it is never a dependency of scjax) compiles that IR for
   `GPUTarget("cuda", 90, 32)` down to a cubin (`_compile_triton_ir.py`). On a GPU, jaxlib
   compiles the same IR with the Triton it bundles (XLA's), so this shows the IR is valid and
   what Triton makes of it, not the exact binary a device would run.
3. From the cubin: registers per thread, local memory (spills), the SASS of the innermost
   loop (the step loop: the only backward branch of the kernel) classified by pipe, per
   neuron-step, and the global loads/stores inside it (the state must stay in registers:
   none expected for a constant stimulus), and the path where the loop's largest forward
   branch is taken (in-step events: the root find a block skips when none of its lanes
   crosses). From the PTX: how division and exp are done.
4. A static ceiling (not a measurement): with perfect latency hiding, an SM retires per clock
   at most 128 thread-instructions in all (4 schedulers × 32 lanes), 128 float32
   add/mul/FMA, 64 float64 FMA, 64 integer/compare/select/logic, 16 MUFU
   (ex2, rcp, rsqrt, lg2) and 16 conversions (the CUDA C Programming Guide's throughput
   table for compute capability 9.0). The busiest of these bounds a neuron-step's cycles;
   times 132 SMs at 1.98 GHz (H200 SXM boost), times the last wave's fill at N neurons,
   that is the best the kernel can do. Occupancy comes from registers (65,536 per SM).

Writes JSON to --out (default experiments/results/offline_triton_sm90.json).
"""

import argparse
import collections
import itertools
import json
import math
import os
import pathlib
import re
import subprocess
import sys
import tempfile

# eqx.error_if's host callback cannot be lowered for a platform other than the host's; NaN
# checks lower everywhere (nothing runs here: the programs are only lowered).
os.environ["EQX_ON_ERROR"] = "nan"

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
from jax._src.lib.mlir import ir  # noqa: E402
from jax._src.pallas.triton.lowering import _new_ir_context  # noqa: E402

import scjax  # noqa: E402
from scjax.simulation import PallasLoop  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_pallas import EVENTS, SOLVERS, contender_fn, workloads  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
TRITON = "triton==3.9.0"
TRITON_VENV = ROOT / "build" / "triton-venv"

#: H200 SXM: streaming multiprocessors, boost clock (Hz), registers per SM, warps per SM.
SMS, CLOCK_HZ, REGISTERS_PER_SM, MAX_WARPS_PER_SM, MAX_CTAS_PER_SM = 132, 1.98e9, 65536, 64, 32
#: Per SM per clock (CUDA C Programming Guide, arithmetic throughput, compute capability 9.0).
RATES = {"issue": 128, "fp32": 128, "fp64": 64, "alu": 64, "mufu": 16, "conversion": 16}
TARGETS = {"hh_rk4": 5e10, "izhikevich": 2e11}

_PIPES = {
    "fp32": {"FADD", "FMUL", "FFMA", "FADD32I", "FMUL32I", "FFMA32I", "HFMA2", "HADD2", "HMUL2"},
    "fp64": {"DADD", "DMUL", "DFMA", "DSETP", "DMNMX"},
    "mufu": {"MUFU"},
    "conversion": {"F2F", "F2I", "I2F", "FRND", "I2FP", "F2IP", "F2FP"},
    "memory": {"LDG", "STG", "LDL", "STL", "LD", "ST", "LDS", "STS", "LDC", "ULDC", "ATOM", "RED"},
    "control": {"BRA", "EXIT", "NOP", "BSSY", "BSYNC", "CALL", "RET", "WARPSYNC", "BAR"},
}
_SASS_LINE = re.compile(
    r"/\*([0-9a-f]{4,})\*/\s+(?:@!?U?P[0-9T]\s+)?([A-Z][A-Z0-9_]*)(\S*)\s*([^;]*);"
)


def ensure_triton() -> pathlib.Path:
    """The throwaway venv's python with the pinned Triton wheel (made on first use)."""
    python = TRITON_VENV / "bin" / "python"
    probe = [str(python), "-c", "import triton; print(triton.__version__)"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", str(TRITON_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", TRITON], check=True)
    return python


def triton_modules(lowered) -> list[tuple[str, str, int]]:
    """(name, Triton IR text, num_warps) of each Pallas kernel of a program lowered for CUDA."""
    found = []

    def walk(operation):
        for region in operation.regions:
            for block in region.blocks:
                for op in block.operations:
                    if op.operation.name == "stablehlo.custom_call":
                        attrs = op.operation.attributes
                        if ir.StringAttr(attrs["call_target_name"]).value == "__gpu$xla.gpu.triton":
                            found.append(ir.DictAttr(attrs["mhlo.backend_config"]))
                    walk(op.operation)

    walk(lowered.compiler_ir("stablehlo").operation)
    modules = []
    for config in found:
        with _new_ir_context():
            module = ir.Module.parse(ir.StringAttr(config["ir"]).value_bytes)
            text = module.operation.get_asm(enable_debug_info=False)
        warps = ir.IntegerAttr(config["num_warps"]).value
        modules.append((ir.StringAttr(config["name"]).value, text, warps))
    return modules


def innermost_loop(sass: str) -> list[str]:
    """The opcodes (with modifiers) of the shortest backward-branch span of the SASS."""
    return [full for _, _, full, _ in _innermost_loop_lines(sass)]


def _innermost_loop_lines(sass: str) -> list[tuple[int, str, str, str]]:
    lines = [(int(m[1], 16), m[2], m[2] + m[3], m[4]) for m in _SASS_LINE.finditer(sass)]
    spans = []
    for address, opcode, _, operands in lines:
        target = re.search(r"0x([0-9a-f]+)", operands)
        if opcode == "BRA" and target and int(target[1], 16) < address:
            spans.append((address - int(target[1], 16), int(target[1], 16), address))
    if not spans:
        return []
    _, start, end = min(spans)
    return [line for line in lines if start <= line[0] <= end]


def largest_forward_skip(sass: str) -> int:
    """Instructions of the step loop that its largest forward branch jumps over (0 if none):
    with in-step events, the root find a block skips in steps where none of its lanes
    crosses (`_pallas._root_find_where_a_lane_crosses`)."""
    loop = _innermost_loop_lines(sass)
    skipped = 0
    for address, opcode, _, operands in loop:
        target = re.search(r"0x([0-9a-f]+)", operands)
        if opcode == "BRA" and target and int(target[1], 16) > address:
            end = int(target[1], 16)
            skipped = max(skipped, sum(address < a < end for a, _, _, _ in loop))
    return skipped


def steps_per_iteration(sass: str, n_steps: int) -> tuple[int, str]:
    """How many steps one iteration of the step loop does (LLVM unrolls short bodies), and
    how that was found: the loop counter set to `n_steps` before the loop (`UMOV URc,
    0x<n_steps>`) and decremented by K inside it (`UIADD3 URc, URc, -0xK`); else 1."""
    counters = set(re.findall(rf"UMOV (UR\d+), 0x{n_steps:x}\b", sass))
    for counter in counters:
        step = re.search(rf"UIADD3 {counter}, {counter}, -0x([0-9a-f]+), URZ", sass)
        if step:
            return int(step[1], 16), f"counter {counter} from {n_steps} by -{int(step[1], 16)}"
    return 1, "no counter found: 1 assumed"


def pipe_of(opcode: str) -> str:
    base = opcode.split(".")[0]
    for pipe, names in _PIPES.items():
        if base in names:
            return pipe
    return "alu"


def analyse(
    sass: str, ptx: str, resources: str, n_steps: int, block: int, warps: int, neurons: int
) -> dict:
    usage = dict(re.findall(r"\b(REG|STACK|SHARED|LOCAL):(\d+)", resources))
    registers = int(usage.get("REG", 0))
    loop = innermost_loop(sass)
    unroll, unroll_found = steps_per_iteration(sass, n_steps)
    threads = 32 * warps
    # Thread-instructions per neuron-step, per instruction of the loop.
    per_step = threads / block / unroll
    pipes = collections.Counter(pipe_of(op) for op in loop)
    per_neuron = {p: round(c * per_step, 2) for p, c in sorted(pipes.items())}
    per_neuron["issue"] = round(len(loop) * per_step, 2)
    quiet = round((len(loop) - largest_forward_skip(sass)) * per_step, 2)
    cycles = {p: per_neuron.get(p, 0.0) / rate for p, rate in RATES.items()}
    bound = max(cycles, key=lambda p: cycles[p])
    allocated = max(8, math.ceil(registers / 8) * 8)
    warps_by_registers = REGISTERS_PER_SM // (allocated * 32)
    ctas_per_sm = min(MAX_CTAS_PER_SM, warps_by_registers // warps, MAX_WARPS_PER_SM // warps)
    ctas = math.ceil(neurons / block)
    slots = SMS * max(ctas_per_sm, 1)
    waves = math.ceil(ctas / slots)
    fill = ctas / (waves * slots)
    ceiling = SMS * CLOCK_HZ / cycles[bound] * fill if cycles[bound] else None
    ops = collections.Counter(re.findall(r"^\s*(?:@%p\d+\s+)?([a-z][a-z0-9_.]*)", ptx, re.M))
    notable = ("div.full.f32", "div.rn.f32", "div.approx.f32", "div.rn.f64", "ex2.approx.ftz.f32")
    notable += ("ex2.approx.f32", "div.approx.ftz.f32", "rcp.approx.ftz.f64")
    notable += ("lg2.approx.ftz.f32",)
    return {
        "registers_per_thread": registers,
        "local_memory_bytes": int(usage.get("LOCAL", 0)),
        "stack_bytes": int(usage.get("STACK", 0)),
        "shared_memory_bytes": int(usage.get("SHARED", 0)),
        "loop_instructions": len(loop),
        "steps_per_loop_iteration": unroll,
        "steps_per_loop_iteration_from": unroll_found,
        "neurons_per_thread": block / threads,
        "per_neuron_step": per_neuron,
        # The path through the loop where its largest forward branch is taken (in-step
        # events: no lane of the block crosses); equals per_neuron_step's issue without one.
        "issue_per_neuron_step_when_skipping": quiet,
        "global_loads_in_loop": sum(op.startswith("LDG") for op in loop),
        "global_stores_in_loop": sum(op.startswith("STG") for op in loop),
        "spill_accesses_in_loop": sum(op.startswith(("LDL", "STL")) for op in loop),
        "ptx_ops": {op: ops[op] for op in notable if ops[op]},
        "ctas_per_sm": ctas_per_sm,
        "resident_warps_per_sm": ctas_per_sm * warps,
        "last_wave_fill": round(fill, 4),
        "bound_by": bound,
        "cycles_per_neuron_step_per_sm": round(cycles[bound], 3),
        "ceiling_neuron_steps_per_s": ceiling,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", default="128,256,512,1024")
    parser.add_argument("--warps", default="4,8")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--math", default="libdevice,fast", help="PallasLoop(math=) values")
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--neurons", type=int, default=1_000_000)
    parser.add_argument("--workloads", help="names of bench_pallas.workloads (default: all)")
    default = ROOT / "experiments" / "results" / "offline_triton_sm90.json"
    parser.add_argument("--out", default=str(default))
    parser.add_argument("--keep", help="a folder to keep the IR, PTX and SASS in")
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)
    python = ensure_triton()
    blocks = [int(b) for b in args.blocks.split(",")]
    warps = [int(w) for w in args.warps.split(",")]
    maths = args.math.split(",")
    configs = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or scratch
        os.makedirs(folder, exist_ok=True)
        for dtype_name in args.dtypes.split(","):
            dtype = jnp.dtype(dtype_name)
            for name, model, stimulus, dt in workloads(args.neurons, dtype):
                if args.workloads and name not in args.workloads.split(","):
                    continue
                for block, w, math in itertools.product(blocks, warps, maths):
                    # Spike times (a masked store per spike) and rasters (a row per step):
                    # compiled once per workload, at the default block and math.
                    default = (block, w, math) == (256, 4, "libdevice")
                    recorded = ("count", "times", "raster") if default else ()
                    for spikes in recorded or ("count",):
                        loop = PallasLoop(block, interpret=False, num_warps=w, math=math)
                        stem = f"{name}_{dtype_name}_b{block}_w{w}_{math}_{spikes}"
                        events = EVENTS.get(name, "end_of_step")
                        run = contender_fn(
                            model, stimulus, dt, args.steps, loop, spikes, events, SOLVERS.get(name)
                        )
                        lowered = run.trace(model, stimulus).lower(lowering_platforms=("cuda",))
                        ((kernel, text, got_warps),) = triton_modules(lowered)
                        assert got_warps == w, (got_warps, w)
                        path = pathlib.Path(folder, stem)
                        path.with_suffix(".ttir").write_text(text)
                        path.with_suffix(".json").write_text(json.dumps({"num_warps": w}))
                        configs.append((stem, name, dtype_name, block, w, math, spikes, kernel))
        compiled = subprocess.run(
            [str(python), str(ROOT / "experiments" / "gpu" / "_compile_triton_ir.py"), folder],
            capture_output=True,
            text=True,
            check=True,
        )
        triton_version = json.loads(compiled.stdout.strip().splitlines()[-1])["triton"]
        results = []
        for stem, name, dtype_name, block, w, math, spikes, kernel in configs:
            path = pathlib.Path(folder, stem)
            entry = {"workload": name, "dtype": dtype_name, "block_size": block, "num_warps": w}
            entry["math"] = math
            entry["spikes"] = spikes
            entry["kernel"] = kernel
            if path.with_suffix(".error").exists():
                entry["error"] = path.with_suffix(".error").read_text()
            else:
                entry |= analyse(
                    path.with_suffix(".sass").read_text(),
                    path.with_suffix(".ptx").read_text(),
                    path.with_suffix(".resources").read_text(),
                    args.steps,
                    block,
                    w,
                    args.neurons,
                )
            results.append(entry)
    best = {}
    for entry in results:
        if entry["spikes"] != "count":
            continue
        key = f"{entry['workload']}/{entry['dtype']}/{entry['math']}"
        ceiling = entry.get("ceiling_neuron_steps_per_s") or 0
        if ceiling > best.get(key, {}).get("ceiling_neuron_steps_per_s", -1):
            best[key] = {k: entry[k] for k in ("block_size", "num_warps", "bound_by")} | {
                "instructions_per_neuron_step": entry["per_neuron_step"]["issue"],
                "ceiling_neuron_steps_per_s": ceiling,
                "target": TARGETS.get(entry["workload"]) if entry["dtype"] == "float32" else None,
            }
    record = {
        "experiment": "Pallas kernel compiled offline for sm_90 (H200) with upstream Triton; "
        "static instruction mix and ceiling, not a measurement",
        "versions": {"jax": jax.__version__, "scjax": scjax.__version__, "triton": triton_version},
        "target": "GPUTarget('cuda', 90, 32)",
        "neurons": args.neurons,
        "steps": args.steps,
        "machine_model": {
            "sms": SMS,
            "clock_hz": CLOCK_HZ,
            "per_sm_per_clock": RATES,
            "registers_per_sm": REGISTERS_PER_SM,
        },
        "best_ceiling": best,
        "kernels": results,
    }
    pathlib.Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    for key, value in best.items():
        print(key, value)


if __name__ == "__main__":
    main()
