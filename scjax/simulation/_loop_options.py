"""`simulate_batch(loop=...)`: which loop runs a batch, by name or by its options."""

from ._blocked import BlockedLoop
from ._kernel_math import KERNEL_MATH
from ._pallas import PallasLoop

#: The values of `simulate_batch(loop=...)` given by name.
LOOPS: tuple[str, ...] = ("xla", "blocked", "pallas", "auto")


def loop_from_argument(loop) -> str | PallasLoop | BlockedLoop:
    """`simulate_batch(loop=...)` → `"xla"`, `"auto"`, the blocked loop's or the Pallas
    options."""
    if isinstance(loop, BlockedLoop):
        size = loop.block_size
        if not (isinstance(size, int) and not isinstance(size, bool) and size >= 1):
            raise ValueError(f"loop.block_size must be a positive int, got {size!r}")
        return loop
    if isinstance(loop, PallasLoop):
        size = loop.block_size
        if not (
            isinstance(size, int)
            and not isinstance(size, bool)
            and size >= 1
            and size & (size - 1) == 0
        ):
            raise ValueError(f"loop.block_size must be a power of two, got {size!r}")
        warps = loop.num_warps
        if warps is not None and not (
            isinstance(warps, int) and not isinstance(warps, bool) and warps >= 1
        ):
            raise ValueError(f"loop.num_warps must be a positive int or None, got {warps!r}")
        if loop.interpret not in (None, True, False):
            raise ValueError(f"loop.interpret must be None, True or False, got {loop.interpret!r}")
        if not (isinstance(loop.math, str) and loop.math in KERNEL_MATH):
            raise ValueError(f"loop.math must be one of {KERNEL_MATH}, got {loop.math!r}")
        return loop
    if isinstance(loop, str) and loop in LOOPS:
        return {"pallas": PallasLoop(), "blocked": BlockedLoop()}.get(loop, loop)
    raise ValueError(
        f"loop must be one of {LOOPS}, a scjax.simulation.BlockedLoop or a "
        f"scjax.simulation.PallasLoop, got {loop!r}"
    )
