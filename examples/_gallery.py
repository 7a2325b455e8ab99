"""Shared plumbing of the gallery scripts: arguments, float64, figure saving, summaries.

Every script takes `--out DIR` (default: docs/figures, the folder the documentation shows) and
`--small` (or the environment variable SCJAX_EXAMPLES_SMALL=1): shorter runs and fewer points,
for CI. Each writes its figures as PNG and a `<name>.json` summary of the numbers it plotted.
"""

import argparse
import json
import os
import pathlib

# Bit-level parity with the native libraries needs XLA without fused multiply-adds; the flag
# must be set before JAX starts its CPU backend (docs/conventions.md).
if "--xla_cpu_max_isa" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_max_isa=AVX").strip()

import jax  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
#: Dots per inch of the saved figures: small enough to keep each PNG under 100 KB.
DPI = 72


def setup(description: str) -> tuple[pathlib.Path, bool]:
    """Parse `--out` and `--small`, enable float64 (this is a script, not a library import),
    select the non-interactive matplotlib backend; returns (out_dir, small)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=pathlib.Path, default=FIGURES, help="output folder")
    parser.add_argument(
        "--small", action="store_true", help="CI size (also SCJAX_EXAMPLES_SMALL=1)"
    )
    args = parser.parse_args()
    small = args.small or os.environ.get("SCJAX_EXAMPLES_SMALL", "") not in ("", "0")
    jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    args.out.mkdir(parents=True, exist_ok=True)
    return args.out, small


def save(fig, out: pathlib.Path, name: str) -> pathlib.Path:
    path = out / f"{name}.png"
    fig.savefig(path, dpi=DPI)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def summary(out: pathlib.Path, name: str, data: dict) -> None:
    (out / f"{name}.json").write_text(json.dumps(data, indent=1, default=float) + "\n")
