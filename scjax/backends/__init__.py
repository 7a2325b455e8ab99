"""Independent simulation backends with scjax's output schemas, behind one protocol.

- `scjax.backends.native`: Rust, Go and Mojo libraries over one C ABI (ctypes); fixed-step.
- `scjax.backends.scipy`: `scipy.integrate.solve_ivp` (DOP853 / Radau) with events; adaptive.
- `scjax.backends.julia`: DifferentialEquations.jl through one warm juliacall session; adaptive.

Each implements `AbstractBackend` (`name`, `supports_adaptive`, `available() -> True | reason`,
`simulate -> scjax.Trajectory`, `solve -> scjax.adaptive.Solution`): `NativeBackend(name)`,
`SciPyBackend()`, `JuliaBackend()`. Import the submodule you need.
"""

from ._base import AbstractBackend as AbstractBackend
from ._base import BackendUnavailable as BackendUnavailable
