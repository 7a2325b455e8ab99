import os

# Parity "to the last digit" needs the same floating-point operations on both sides. XLA's
# CPU backend contracts a*b + c into fused multiply-adds when the ISA has FMA (AVX2+), while
# NumPy and the native libraries round the product first; on a hard threshold one ulp can move
# a spike by a step. Capping the ISA at AVX (no FMA) makes XLA's arithmetic match theirs
# bit for bit. It must be set before JAX initialises its CPU backend.
# Two virtual CPU devices let the sharding tests run here too.
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "")
    + " --xla_cpu_max_isa=AVX --xla_force_host_platform_device_count=2"
).strip()

import jax  # noqa: E402
import pytest  # noqa: E402

# Tests are the application here: they, not the library, switch float64 on.
jax.config.update("jax_enable_x64", True)


@pytest.fixture
def getkey():
    keys = iter(jax.random.split(jax.random.key(5678), 1000))
    return lambda: next(keys)
