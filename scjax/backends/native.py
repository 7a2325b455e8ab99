"""The Rust, Go and Mojo parity libraries through one ctypes loader.

Each library implements the C ABI of `native/include/scjax_native.h` independently of JAX;
`make native` builds them into `native/build/` and copies them into the package folder
`scjax/_native/`, where this module finds them (through `importlib.resources`, so an editable
install and a wheel both work; `$SCJAX_NATIVE_DIR` overrides the folder). It loads any of
them, checks its ABI version, turns status codes into `ValueError` / `RuntimeError` carrying
the library's own message, and returns the `scjax.Trajectory` schema of `scjax.simulate`:

    >>> from scjax.backends import native
    >>> native.available()
    {'rust': True, 'go': True, 'mojo': 'missing-shared-library (run: make native): ...'}
    >>> tr = native.simulate("rust", scjax.Izhikevich(), current, 0.1, integrator="half_euler")

A library is loaded into this process only once `scjax.backends._native_probe` has found it
sound (ELF headers read here, then a dlopen in a subprocess), so a truncated, corrupt or
foreign file makes that backend unavailable with a reason instead of killing the process.
Reasons start with a code: `missing-shared-library`, `unreadable-shared-library`,
`corrupt-shared-library`, `wrong-architecture`, `missing-runtime`, `abi-mismatch`,
`library-crashed`, `library-hung`, `probe-failed`.

Which models the libraries implement is a fact of the model: its `native_name` (the ABI
name); the ABI's state and parameter orders are the model's `state_names` and `param_names`.

Arrays in the returned trajectory are float64 NumPy arrays whatever JAX's x64 setting, so a
native run is never silently rounded to float32.
"""

import ctypes
import functools
import importlib.resources
import os
import pathlib
import threading
from typing import Literal

import numpy as np

from .._trajectory import Trajectory
from . import _native_probe

#: Version of the C ABI this loader speaks (SCJAX_ABI_VERSION in scjax_native.h).
ABI_VERSION = 1
#: Backend name → shared-library file name, in `library_dir()`.
LIBRARIES: dict[str, str] = {
    "rust": "libscjax_rust.so",
    "go": "libscjax_go.so",
    "mojo": "libscjax_mojo.so",
}
BACKENDS: tuple[str, ...] = tuple(LIBRARIES)
#: The functions of the ABI; a library lacking one is reported as `abi-mismatch`.
SYMBOLS: tuple[str, ...] = (
    "scjax_abi_version",
    "scjax_state_size",
    "scjax_param_size",
    "scjax_default_params",
    "scjax_initial_state",
    "scjax_last_error",
    "scjax_simulate",
)
#: The environment variable that overrides `library_dir()`.
DIR_VARIABLE = "SCJAX_NATIVE_DIR"
INTEGRATORS: tuple[str, ...] = ("euler", "half_euler", "rk4")
#: Status codes of the header: these mean the caller's input was wrong.
_VALUE_ERRORS = {
    1: "null pointer",
    2: "unknown model",
    3: "unknown integrator",
    4: "wrong parameter count",
    5: "invalid argument",
}

_DOUBLE_P = ctypes.POINTER(ctypes.c_double)
_BYTE_P = ctypes.POINTER(ctypes.c_uint8)


def library_dir() -> pathlib.Path:
    """Where the shared libraries are looked up: `$SCJAX_NATIVE_DIR`, else the package data
    folder `scjax/_native/` (filled by `make native`)."""
    env = os.environ.get(DIR_VARIABLE)
    if env:
        return pathlib.Path(env)
    # an installed or editable package is a folder on disk; ctypes needs real files
    return pathlib.Path(str(importlib.resources.files("scjax").joinpath("_native")))


class NativeUnavailable(RuntimeError):
    """A backend cannot be used; the message is the reason reported by `available()`."""


class NativeLibrary:
    """One loaded library with the ABI's argument types declared.

    Calls are serialised by a lock so that `scjax_last_error()` (process-wide in the Go and
    Mojo libraries) is read for the call that failed; `load()` passes the backend's one lock.
    Construct it only for a file `_native_probe` found sound: dlopen of a corrupt file can
    kill the process.
    """

    def __init__(self, backend: str, path: pathlib.Path, lock: "threading.Lock | None" = None):
        self.backend = backend
        self.path = path
        self._lock = threading.Lock() if lock is None else lock
        lib = ctypes.CDLL(str(path))
        lib.scjax_abi_version.restype = ctypes.c_int32
        lib.scjax_abi_version.argtypes = []
        lib.scjax_state_size.restype = ctypes.c_int64
        lib.scjax_state_size.argtypes = [ctypes.c_char_p]
        lib.scjax_param_size.restype = ctypes.c_int64
        lib.scjax_param_size.argtypes = [ctypes.c_char_p]
        lib.scjax_default_params.restype = ctypes.c_int32
        lib.scjax_default_params.argtypes = [ctypes.c_char_p, _DOUBLE_P, ctypes.c_int64]
        lib.scjax_initial_state.restype = ctypes.c_int32
        lib.scjax_initial_state.argtypes = [
            ctypes.c_char_p,
            _DOUBLE_P,
            ctypes.c_int64,
            _DOUBLE_P,
            ctypes.c_int64,
        ]
        lib.scjax_last_error.restype = ctypes.c_char_p
        lib.scjax_last_error.argtypes = []
        lib.scjax_simulate.restype = ctypes.c_int32
        lib.scjax_simulate.argtypes = [
            ctypes.c_char_p,
            ctypes.c_char_p,
            _DOUBLE_P,
            ctypes.c_int64,
            _DOUBLE_P,
            _DOUBLE_P,
            ctypes.c_int64,
            ctypes.c_double,
            _DOUBLE_P,
            _BYTE_P,
        ]
        self.lib = lib
        self.abi_version = int(lib.scjax_abi_version())

    def _call(self, func, *args) -> int:
        with self._lock:
            status = int(func(*args))
            message = lib_message(self.lib) if status != 0 else ""
        if status == 0:
            return status
        text = f"{self.backend}: {message}"
        if status in _VALUE_ERRORS:
            raise ValueError(text)
        raise RuntimeError(f"{text} (status {status})")

    def _size(self, func, model: str) -> int:
        with self._lock:
            size = int(func(model.encode()))
            message = lib_message(self.lib) if size < 0 else ""
        if size < 0:
            raise ValueError(f"{self.backend}: {message}")
        return size

    def state_size(self, model: str) -> int:
        return self._size(self.lib.scjax_state_size, model)

    def param_size(self, model: str) -> int:
        return self._size(self.lib.scjax_param_size, model)

    def default_params(self, model: str) -> np.ndarray:
        out = np.empty(self.param_size(model), np.float64)
        self._call(self.lib.scjax_default_params, model.encode(), _ptr(out), out.size)
        return out

    def initial_state(self, model: str, params) -> np.ndarray:
        params = np.ascontiguousarray(params, np.float64)
        out = np.empty(self.state_size(model), np.float64)
        self._call(
            self.lib.scjax_initial_state,
            model.encode(),
            _ptr(params),
            params.size,
            _ptr(out),
            out.size,
        )
        return out

    def simulate(self, model: str, integrator: str, params, y0, current, dt: float):
        """Raw call: (states [T+1, n_state] float64, spikes [T] bool)."""
        params = np.ascontiguousarray(params, np.float64).reshape(-1)
        y0 = np.ascontiguousarray(y0, np.float64).reshape(-1)
        current = np.ascontiguousarray(current, np.float64).reshape(-1)
        n_state = self.state_size(model)
        if y0.size != n_state:
            raise ValueError(f"y0 must have {n_state} entries for {model}, got {y0.size}")
        n_steps = current.size
        states = np.empty((n_steps + 1, n_state), np.float64)
        spikes = np.empty(max(n_steps, 1), np.uint8)
        self._call(
            self.lib.scjax_simulate,
            model.encode(),
            integrator.encode(),
            _ptr(params),
            params.size,
            _ptr(y0),
            _ptr(current),
            n_steps,
            float(dt),
            _ptr(states),
            spikes.ctypes.data_as(_BYTE_P),
        )
        return states, spikes[:n_steps].astype(bool)


def lib_message(lib) -> str:
    raw = lib.scjax_last_error()
    return raw.decode("utf-8", "replace") if raw else ""


def _ptr(a: np.ndarray):
    return a.ctypes.data_as(_DOUBLE_P)


#: One lock per backend, created here once: it serialises the first load (so concurrent
#: first calls get one object) and then every call into that library.
_LOCKS: dict[str, threading.Lock] = {backend: threading.Lock() for backend in LIBRARIES}
_LOADED: dict[tuple[str, pathlib.Path], NativeLibrary] = {}


def _missing(path: pathlib.Path) -> str:
    return (
        f"missing-shared-library (run: make native): {path.name} not found in {path.parent} "
        f"(`make native` builds it in a source checkout; {DIR_VARIABLE}=<folder> loads it "
        "from another folder)"
    )


def load(backend: str) -> NativeLibrary:
    """The loaded library of `backend` (cached), or `NativeUnavailable` with the reason."""
    if backend not in LIBRARIES:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    folder = library_dir()
    path = folder / LIBRARIES[backend]
    with _LOCKS[backend]:
        cached = _LOADED.get((backend, path))
        if cached is not None:
            return cached
        # the siblings are probed in the same subprocess: one probe per folder, not per library
        status = _native_probe.statuses(
            [folder / name for name in LIBRARIES.values()], SYMBOLS, ABI_VERSION
        )[path]
        if status is None:
            raise NativeUnavailable(_missing(path))
        if status is not True:
            raise NativeUnavailable(status)
        try:
            lib = NativeLibrary(backend, path, _LOCKS[backend])
        except (OSError, AttributeError) as e:
            # sound in the probe, refused here: the file changed since, or the environment
            raise NativeUnavailable(f"missing-runtime: {path}: {e} (rebuild: make native)") from e
        if lib.abi_version != ABI_VERSION:
            raise NativeUnavailable(
                f"abi-mismatch: {path}: library has ABI {lib.abi_version}, loader expects "
                f"{ABI_VERSION} (rebuild: make native)"
            )
        _LOADED[backend, path] = lib
        return lib


def status(backend: str) -> Literal[True] | str:
    """True when `backend` can be used, else the reason (a code, the file, what to do)."""
    try:
        load(backend)
    except NativeUnavailable as e:
        return str(e)
    return True


def available() -> dict[str, Literal[True] | str]:
    """{backend: True, or the reason it cannot be used} for every backend in `BACKENDS`."""
    return {backend: status(backend) for backend in BACKENDS}


@functools.cache
def native_models() -> dict[str, type]:
    """ABI model name → scjax model class, from each model's own `native_name`."""
    from ..models import MODELS

    return {cls.native_name: cls for cls in MODELS.values() if cls.native_name is not None}


def model_class(model) -> type:
    """The scjax model class of a model instance or of an ABI name, if the ABI implements it."""
    known = native_models()
    if isinstance(model, str):
        if model not in known:
            raise ValueError(f"model must be one of {tuple(known)}, got {model!r}")
        return known[model]
    from ..models import AbstractNeuronModel

    cls = type(model)
    if not (isinstance(model, AbstractNeuronModel) and cls.native_name in known):
        raise ValueError(
            f"model must be one of {tuple(c.__name__ for c in known.values())} for the native "
            f"backends (a model with a `native_name`), got {cls.__name__}"
        )
    return cls


def model_name(model) -> str:
    """The ABI name of a scjax model instance (or an ABI name given directly)."""
    return model_class(model).native_name


def integrator_name(integrator) -> str:
    """An integrator name, or the name of a `scjax.solvers` Euler / HalfEuler / RK4 instance."""
    if isinstance(integrator, str):
        if integrator not in INTEGRATORS:
            raise ValueError(f"integrator must be one of {INTEGRATORS}, got {integrator!r}")
        return integrator
    from ..solvers import RK4, Euler, HalfEuler

    for cls, name in ((Euler, "euler"), (HalfEuler, "half_euler"), (RK4, "rk4")):
        if type(integrator) is cls:
            return name
    raise ValueError(f"integrator must be one of {INTEGRATORS}, got {integrator!r}")


def simulate(
    backend: str, model, current, dt, integrator="rk4", params=None, y0=None, t0: float = 0.0
) -> Trajectory:
    """Run `model` on the native `backend` ("rust", "go" or "mojo"); same conventions and
    output schema as `scjax.simulate` (float64).

    Arguments:
        backend: one of `BACKENDS`.
        model: an `Izhikevich`, `HodgkinHuxley` or `AdEx` instance, or its ABI name
            ("izhikevich", "hodgkin_huxley", "adex").
        current: `[T]` current samples; `current[n]` holds over step n.
        dt: step in ms.
        integrator: "euler", "half_euler" or "rk4" (or the matching `scjax.solvers` object).
        params: the parameter vector in `model.param_names` order; None means the model's own
            (`model.param_vector()`), or the library's defaults when `model` is a name.
        y0: initial state; None means the library's `scjax_initial_state`.
        t0: time of the first sample, ms (only used for `Trajectory.t`).

    Raises `ValueError` with the library's message for bad input, `NativeUnavailable` when the
    backend is not built or cannot load.
    """
    lib = load(backend)
    cls = model_class(model)
    name = cls.native_name
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        raise ValueError(f"dt must be a real scalar, got {dt!r}") from None
    integ = integrator_name(integrator)
    if not isinstance(model, str):
        noise = float(np.asarray(model.noise_std))
        if noise != 0.0:
            raise ValueError(
                f"model.noise_std must be 0 for the native backends (they take the noisy "
                f"current itself), got {noise}"
            )
    if params is None:
        if isinstance(model, str):
            params = lib.default_params(name)
        else:
            # the fields themselves (model.param_vector() would cost a JAX dispatch per call)
            params = [np.asarray(getattr(model, p), np.float64) for p in model.param_names]
    params = np.asarray(params, np.float64)
    current = np.asarray(current)
    if current.ndim != 1:
        raise ValueError(f"current must be a 1-D array, got shape {current.shape}")
    if y0 is None:
        y0 = lib.initial_state(name, params)
    states, spikes = lib.simulate(name, integ, params, y0, current.astype(np.float64), dt)
    t = np.float64(t0) + np.float64(dt) * np.arange(current.size + 1, dtype=np.float64)
    return Trajectory(
        t=t,
        y=states,
        spikes=spikes,
        spike_signal=spikes.astype(np.float64),
        state_names=cls.state_names,
        diverged=np.bool_(not np.all(np.isfinite(states))),
    )


# --- the backend protocol ------------------------------------------------------------------
from typing import ClassVar, Literal  # noqa: E402

from ._base import AbstractBackend  # noqa: E402


class NativeBackend(AbstractBackend):
    """One native library ("rust", "go" or "mojo") through the backend protocol: fixed-step
    only (`solve` raises)."""

    name: str
    supports_adaptive: ClassVar[bool] = False

    def __check_init__(self):
        if self.name not in BACKENDS:
            raise ValueError(f"name must be one of {BACKENDS}, got {self.name!r}")

    def available(self) -> Literal[True] | str:
        return status(self.name)

    def simulate(self, model, current, dt, integrator: str | None = None, y0=None) -> Trajectory:
        return simulate(
            self.name,
            model,
            current,
            dt,
            integrator="rk4" if integrator is None else integrator,
            y0=y0,
        )

    def solve(
        self,
        model,
        t_span,
        current=0.0,
        *,
        saveat: float = 0.1,
        current_dt: float | None = None,
        y0=None,
    ):
        raise ValueError(
            f"the {self.name} backend is fixed-step only (supports_adaptive is "
            "False): use simulate(..., integrator=...)"
        )
