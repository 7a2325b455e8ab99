r"""Classification of a fixed point by the eigenvalues $\lambda_k$ of its Jacobian (Strogatz
2015, *Nonlinear Dynamics and Chaos*, §5–6; Izhikevich 2007, *Dynamical Systems in
Neuroscience*, ch. 4):

all $\operatorname{Re}\lambda < 0$ → stable (focus if the leading pair is complex, else node);
all $> 0$ → unstable node / focus; mixed signs → saddle (unstable focus when the unstable
directions are a complex pair, i.e. a saddle-focus); a leading pair with
$\operatorname{Re}\lambda \approx 0$ → centre-like; a real $\lambda \approx 0$ → non-hyperbolic.
"""

import numpy as np

#: The labels `classify` returns.
KINDS: tuple[str, ...] = (
    "stable node",
    "stable focus",
    "unstable node",
    "unstable focus",
    "saddle",
    "centre-like",
    "non-hyperbolic",
)


def centre_tolerance(lam) -> float:
    """|Re λ| below this counts as zero: 1e-9 of the largest |λ| (a relative test, so a slow
    model is not called non-hyperbolic for being slow)."""
    scale = float(np.max(np.abs(lam))) if np.size(lam) else 1.0
    return 1e-9 * max(scale, 1e-12)


def classify(eigvals) -> str:
    """The label (one of `KINDS`) of a fixed point with these Jacobian eigenvalues (see the
    module docstring)."""
    lam = np.asarray(eigvals)
    tol = centre_tolerance(lam)
    re, im = np.real(lam), np.imag(lam)
    complex_ = np.abs(im) > tol
    zero = np.abs(re) <= tol
    if np.any(zero & ~complex_):
        return "non-hyperbolic"
    if np.any(zero & complex_):
        return "centre-like"
    unstable = re > 0
    if not np.any(unstable):
        return "stable focus" if complex_[np.argmax(re)] else "stable node"
    if np.all(unstable):
        return "unstable focus" if complex_[np.argmax(re)] else "unstable node"
    return "unstable focus" if np.all(complex_[unstable]) else "saddle"
