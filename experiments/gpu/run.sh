#!/usr/bin/env bash
# The device check of the Pallas loop, in one go (about 4 minutes on an H200, under 8):
#   OUT=some/dir experiments/gpu/run.sh
# 1. tests/test_pallas_loop.py and test_kernel_math.py on the CPU backend (interpret mode,
#    bit-exact to the XLA loop; the fast-math formulas);
# 2. experiments/gpu/bench_pallas.py on the GPU: XLA loop vs the Pallas (Triton) loop, HH RK4
#    and Izhikevich (also in-step events, and HH with RosenbrockEuler(linear_solve=
#    "elimination")), float32, 10^6 neurons x 10^4 steps, interleaved, medians of 3, with the
#    agreement of counts and final states, also for PallasLoop(math="fast") at 256x8 and
#    512x4 (the only place its ex2.approx / div.approx run). A contender that fails to lower
#    is recorded, not fatal. Everything lands in $OUT (default experiments/results).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-experiments/results}
mkdir -p "$OUT"
export PYTHONPATH=. PYTHONUNBUFFERED=1
{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
    python3 -c "import jax; print('jax', jax.__version__, jax.devices())"
} 2>&1 | tee "$OUT/pallas_gpu_info.txt"
JAX_PLATFORMS=cpu timeout 150 python3 -m pytest -q -rs -p no:cacheprovider tests/test_pallas_loop.py \
    tests/test_kernel_math.py \
    2>&1 | tee "$OUT/pallas_pytest.txt"
timeout 300 python3 experiments/gpu/bench_pallas.py --neurons 1000000 --steps 10000 --repeats 3 \
    --budget-s 240 --out "$OUT/bench_pallas.json" 2>&1 | tee "$OUT/bench_pallas.log"
