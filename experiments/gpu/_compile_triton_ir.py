"""Compile Triton IR files for an H200 (sm_90) with upstream Triton, without a GPU.

    build/triton-venv/bin/python experiments/gpu/_compile_triton_ir.py DIR

Run by `offline_triton.py` in the throwaway venv that holds the `triton` wheel (never a
dependency of scjax). For each `DIR/<kernel>.ttir` with its `DIR/<kernel>.json`
(`{"num_warps": w}`), writes `<kernel>.ptx`, `<kernel>.sass` (`cuobjdump -sass`) and
`<kernel>.resources` (`cuobjdump --dump-resource-usage`), or `<kernel>.error`. Triton's
`GPUTarget` makes the compile independent of any driver: ttir → ttgir → LLVM IR → PTX (LLVM's
NVPTX back end) → cubin (the wheel's `ptxas`).
"""

import json
import os
import pathlib
import subprocess
import sys
import traceback

# Triton 3.9 warns without it; fusion on is what Triton (and XLA's Triton) does today.
os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")

import triton  # noqa: E402
from triton.backends.compiler import GPUTarget  # noqa: E402

BIN = pathlib.Path(triton.__file__).parent / "backends" / "nvidia" / "bin"


def compile_one(ttir: pathlib.Path) -> None:
    options = json.loads(ttir.with_suffix(".json").read_text())
    try:
        kernel = triton.compile(
            str(ttir), target=GPUTarget("cuda", 90, 32), options={"num_warps": options["num_warps"]}
        )
        ttir.with_suffix(".ptx").write_text(kernel.asm["ptx"])
        cubin = ttir.with_suffix(".cubin")
        cubin.write_bytes(kernel.asm["cubin"])
        for flag, suffix in (("-sass", ".sass"), ("--dump-resource-usage", ".resources")):
            text = subprocess.run(
                [str(BIN / "cuobjdump"), flag, str(cubin)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            ttir.with_suffix(suffix).write_text(text)
    except Exception:  # noqa: BLE001 (recorded for the report, the others go on)
        ttir.with_suffix(".error").write_text(traceback.format_exc()[-3000:])


def main() -> None:
    folder = pathlib.Path(sys.argv[1])
    for ttir in sorted(folder.glob("*.ttir")):
        compile_one(ttir)
    print(json.dumps({"triton": triton.__version__, "kernels": len(list(folder.glob("*.ttir")))}))


if __name__ == "__main__":
    main()
