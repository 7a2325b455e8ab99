"""Independent simulation backends with scjax's one output schema (`scjax.Trajectory`).

- `scjax.backends.native`: Rust, Go and Mojo libraries over one C ABI (ctypes).
- `scjax.backends.scipy`: `scipy.integrate.solve_ivp` (DOP853 / Radau) with events.
- `scjax.backends.julia`: DifferentialEquations.jl through one warm juliacall session.

Import the submodule you need; each reports `available()` with an explicit reason.
"""
