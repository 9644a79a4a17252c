"""Sweep distributions: the Azure ``search_space`` vocabulary, as typed values.

The YAML form ``{type: uniform, min_value: 0.0001, max_value: 0.01}``, the old string form
``"uniform(0.0001, 0.01)"`` and the SDK objects ``Uniform(min_value=..., max_value=...)`` all
become one of these classes. Semantics (see the reference): ``loguniform`` bounds are natural
logs; ``q*`` variants round to a multiple of ``q``; ``randint`` draws from ``[0, upper)``.
"""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import fields
from typing import Any
from typing import ClassVar


@dataclass(frozen=True)
class Distribution:
    """Base of all sweep distributions; ``type`` is the YAML ``type:`` value."""

    type: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        """The YAML mapping form, ``{"type": ..., <parameters>}``."""
        out: dict[str, Any] = {"type": self.type}
        out.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()})
        return out

    def to_expression(self) -> str:
        """The old string form, e.g. ``"uniform(0.0001, 0.01)"``."""
        args = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                args.extend(repr(v) for v in value)
            else:
                args.append(repr(value))
        return f"{self.type}({', '.join(args)})"


@dataclass(frozen=True)
class Choice(Distribution):
    """One of ``values``."""

    type: ClassVar[str] = "choice"
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Randint(Distribution):
    """An integer in ``[0, upper)``."""

    type: ClassVar[str] = "randint"
    upper: int


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform in ``[min_value, max_value]``."""

    type: ClassVar[str] = "uniform"
    min_value: float
    max_value: float


@dataclass(frozen=True)
class LogUniform(Distribution):
    """``exp(uniform(min_value, max_value))``: the bounds are natural logarithms."""

    type: ClassVar[str] = "loguniform"
    min_value: float
    max_value: float


@dataclass(frozen=True)
class Normal(Distribution):
    """``normal(mu, sigma)``."""

    type: ClassVar[str] = "normal"
    mu: float
    sigma: float


@dataclass(frozen=True)
class LogNormal(Distribution):
    """``exp(normal(mu, sigma))``."""

    type: ClassVar[str] = "lognormal"
    mu: float
    sigma: float


@dataclass(frozen=True)
class QUniform(Distribution):
    """``round(uniform(min_value, max_value) / q) * q``."""

    type: ClassVar[str] = "quniform"
    min_value: float
    max_value: float
    q: float


@dataclass(frozen=True)
class QLogUniform(Distribution):
    """``round(exp(uniform(min_value, max_value)) / q) * q``."""

    type: ClassVar[str] = "qloguniform"
    min_value: float
    max_value: float
    q: float


@dataclass(frozen=True)
class QNormal(Distribution):
    """``round(normal(mu, sigma) / q) * q``."""

    type: ClassVar[str] = "qnormal"
    mu: float
    sigma: float
    q: float


@dataclass(frozen=True)
class QLogNormal(Distribution):
    """``round(exp(normal(mu, sigma)) / q) * q``."""

    type: ClassVar[str] = "qlognormal"
    mu: float
    sigma: float
    q: float


DISTRIBUTIONS: dict[str, type[Distribution]] = {
    cls.type: cls
    for cls in (
        Choice,
        Randint,
        Uniform,
        LogUniform,
        Normal,
        LogNormal,
        QUniform,
        QLogUniform,
        QNormal,
        QLogNormal,
    )
}
