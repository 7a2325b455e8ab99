"""The physical range of a model parameter, declared once per model in `param_domains`.

`AbstractNeuronModel.__check_init__` checks every concrete parameter against its domain,
`scjax.fitting.default_transform` maps a positive parameter through a positive transform, and
`domain_table` renders the declarations for the documentation. A parameter without a declared
domain is any finite real.
"""

import dataclasses
import math

import numpy as np


@dataclasses.dataclass(frozen=True)
class Domain:
    """An interval of the real line with units: `low ≤ p ≤ high`, each bound open or closed.

    Build one with `Domain.real`, `Domain.positive` (p > 0), `Domain.nonnegative` (p ≥ 0) or
    `Domain.interval`; `units` is a free-form string such as `"mV"` or `"mS/cm²"`.
    """

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = True
    high_open: bool = True
    units: str = ""

    def __post_init__(self):
        if math.isnan(self.low) or math.isnan(self.high) or not self.low <= self.high:
            raise ValueError(f"Domain needs low <= high, got low={self.low}, high={self.high}")

    @classmethod
    def real(cls, units: str = "") -> "Domain":
        return cls(units=units)

    @classmethod
    def positive(cls, units: str = "") -> "Domain":
        return cls(low=0.0, low_open=True, units=units)

    @classmethod
    def nonnegative(cls, units: str = "") -> "Domain":
        return cls(low=0.0, low_open=False, units=units)

    @classmethod
    def interval(cls, low: float, high: float, units: str = "", *, open: bool = False) -> "Domain":
        return cls(low=float(low), high=float(high), low_open=open, high_open=open, units=units)

    @property
    def kind(self) -> str:
        """`"real"`, `"positive"`, `"nonnegative"` or `"interval"`."""
        if self.low == -math.inf and self.high == math.inf:
            return "real"
        if self.low == 0.0 and self.high == math.inf:
            return "positive" if self.low_open else "nonnegative"
        return "interval"

    def contains(self, values) -> np.ndarray:
        """Elementwise membership of concrete values (a bool array of their shape)."""
        v = np.asarray(values, dtype=float)
        above = v > self.low if self.low_open else v >= self.low
        below = v < self.high if self.high_open else v <= self.high
        return np.isfinite(v) & above & below

    def describe(self) -> str:
        """The range as text: `"> 0"`, `">= 0"`, `"real"`, `"[0, 1]"`, ..."""
        kind = self.kind
        if kind == "real":
            return "real"
        if kind in ("positive", "nonnegative"):
            return "> 0" if self.low_open else ">= 0"
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"{left}{self.low:g}, {self.high:g}{right}"


def domain_table(model_cls) -> str:
    """A Markdown table of `model_cls`'s parameters: name, default, range, units."""
    fields = {f.name: f for f in dataclasses.fields(model_cls)}
    rows = ["| parameter | default | range | units |", "|---|---|---|---|"]
    for name in model_cls.param_names:
        domain = model_cls.param_domains.get(name, Domain.real())
        field = fields.get(name)
        default = "" if field is None or field.default is dataclasses.MISSING else field.default
        rows.append(f"| `{name}` | {default} | {domain.describe()} | {domain.units} |")
    return "\n".join(rows)
