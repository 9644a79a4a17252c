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

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem


def _number(cls_type: str, name: str, value: Any, *, integer: bool = False) -> float | int:
    """Coerce a distribution parameter to a number, or raise a :class:`ConfigError`."""
    if isinstance(value, bool) or value is None:
        raise ConfigError(Problem(f"{cls_type}: {name} must be a number", value=repr(value)))
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ConfigError(
                Problem(f"{cls_type}: {name} must be a number", value=repr(value))
            ) from None
    if not isinstance(value, (int, float)):
        raise ConfigError(Problem(f"{cls_type}: {name} must be a number", value=repr(value)))
    if integer:
        if float(value) != int(value):
            raise ConfigError(Problem(f"{cls_type}: {name} must be an integer", value=repr(value)))
        return int(value)
    return float(value)


def _fail(cls_type: str, message: str, value: Any) -> ConfigError:
    return ConfigError(Problem(f"{cls_type}: {message}", value=repr(value)))


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
        args: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                args.extend(repr(v) for v in value)
            else:
                args.append(repr(value))
        return f"{self.type}({', '.join(args)})"

    def __post_init__(self) -> None:
        # Coerce numbers once here so YAML strings ("1e-4"), ints and SDK calls all compare
        # equal; range problems raise ConfigError (the YAML loader adds the location).
        for f in fields(self):
            if f.name == "values":
                continue
            integer = f.name == "upper"
            object.__setattr__(
                self, f.name, _number(self.type, f.name, getattr(self, f.name), integer=integer)
            )
        self._check()

    def _check(self) -> None:
        """Check parameter ranges (overridden per family)."""
        low, high = getattr(self, "min_value", None), getattr(self, "max_value", None)
        if low is not None and high is not None and low > high:
            raise _fail(self.type, "min_value must be <= max_value", (low, high))
        sigma = getattr(self, "sigma", None)
        if sigma is not None and sigma < 0:
            raise _fail(self.type, "sigma must be >= 0", sigma)
        q = getattr(self, "q", None)
        if q is not None and q <= 0:
            raise _fail(self.type, "q must be > 0", q)

    @property
    def is_numeric(self) -> bool:
        """True for every distribution except ``choice``."""
        return not isinstance(self, Choice)


@dataclass(frozen=True)
class Choice(Distribution):
    """One of ``values``."""

    type: ClassVar[str] = "choice"
    values: tuple[Any, ...]

    def __init__(self, values: Any = None, *args: Any) -> None:
        # Both ``Choice(values=[...])`` (Azure SDK) and ``Choice("a", "b")`` are accepted.
        if args:
            values = (values, *args)
        elif isinstance(values, range):
            values = tuple(values)
        elif not isinstance(values, (list, tuple)):
            values = (values,) if values is not None else ()
        object.__setattr__(self, "values", tuple(values))
        self.__post_init__()

    def _check(self) -> None:
        if not self.values:
            raise _fail(self.type, "values must not be empty", list(self.values))


@dataclass(frozen=True)
class Randint(Distribution):
    """An integer in ``[0, upper)``."""

    type: ClassVar[str] = "randint"
    upper: int

    def _check(self) -> None:
        if self.upper < 1:
            raise _fail(self.type, "upper must be >= 1", self.upper)


@dataclass(frozen=True)
class _Bounded(Distribution):
    """A family drawn between two bounds."""

    min_value: float
    max_value: float


@dataclass(frozen=True)
class _Gaussian(Distribution):
    """A family drawn around a mean."""

    mu: float
    sigma: float


@dataclass(frozen=True)
class Uniform(_Bounded):
    """Uniform in ``[min_value, max_value]``."""

    type: ClassVar[str] = "uniform"


@dataclass(frozen=True)
class LogUniform(_Bounded):
    """``exp(uniform(min_value, max_value))``: the bounds are natural logarithms."""

    type: ClassVar[str] = "loguniform"


@dataclass(frozen=True)
class Normal(_Gaussian):
    """``normal(mu, sigma)``."""

    type: ClassVar[str] = "normal"


@dataclass(frozen=True)
class LogNormal(_Gaussian):
    """``exp(normal(mu, sigma))``."""

    type: ClassVar[str] = "lognormal"


@dataclass(frozen=True)
class QUniform(_Bounded):
    """``round(uniform(min_value, max_value) / q) * q``."""

    type: ClassVar[str] = "quniform"
    q: float


@dataclass(frozen=True)
class QLogUniform(_Bounded):
    """``round(exp(uniform(min_value, max_value)) / q) * q``."""

    type: ClassVar[str] = "qloguniform"
    q: float


@dataclass(frozen=True)
class QNormal(_Gaussian):
    """``round(normal(mu, sigma) / q) * q``."""

    type: ClassVar[str] = "qnormal"
    q: float


@dataclass(frozen=True)
class QLogNormal(_Gaussian):
    """``round(exp(normal(mu, sigma)) / q) * q``."""

    type: ClassVar[str] = "qlognormal"
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
