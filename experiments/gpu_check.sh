#!/usr/bin/env bash
# The device check, in one go: GPU tests, then the batched throughput benchmark on the GPU.
#   OUT=some/dir experiments/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-experiments/results}
export PYTHONPATH=. PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu_info.txt"
python3 -c "import jax, diffrax, equinox; print('jax', jax.__version__, jax.devices())" | tee -a "$OUT/gpu_info.txt"
python3 -m pytest -q -rs tests/test_gpu.py tests/test_sharding.py 2>&1 | tee "$OUT/gpu_pytest.txt"
python3 experiments/bench_simulate.py --neurons 100000 --steps 10000 --repeats 3 \
    --out "$OUT/bench_simulate_gpu_1e5.json"
python3 experiments/bench_simulate.py --neurons 1000000 --steps 10000 --repeats 2 \
    --out "$OUT/bench_simulate_gpu_1e6.json"
