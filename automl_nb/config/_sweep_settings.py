"""``sweep``: the sampling algorithm and the three early-termination policies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields
from typing import Any
from typing import ClassVar

from automl_nb.config._fields import Invalid
from automl_nb.config._fields import integer
from automl_nb.config._fields import real
from automl_nb.config._fields import to_flag
from automl_nb.config._names import suggest
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

SAMPLING_ALGORITHMS = ("random", "grid", "bayesian")


def _check(cls: str, name: str, parse: Any, value: Any) -> Any:
    try:
        return parse(value)
    except Invalid as exc:
        raise ConfigError(Problem(f"{cls}: {name} {exc}", value=repr(value))) from None


@dataclass(frozen=True)
class _Policy:
    """Shared parts of the early-termination policies."""

    type: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        """The YAML form, ``{"type": "bandit", ...}``, without unset values."""
        out: dict[str, Any] = {"type": self.type}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = value
        return out

    def _check_common(self) -> None:
        # Every policy declares both fields (after its own ones, so they keep their defaults).
        name = type(self).__name__
        for key, parse in (("evaluation_interval", integer(1)), ("delay_evaluation", integer(0))):
            object.__setattr__(self, key, _check(name, key, parse, self.__dict__[key]))


@dataclass(frozen=True)
class BanditPolicy(_Policy):
    """Stop a trial whose metric falls more than a slack below the best trial's.

    Exactly one of ``slack_factor`` (ratio: stop below ``best / (1 + slack_factor)``) and
    ``slack_amount`` (absolute: stop below ``best - slack_amount``) is given.
    """

    type: ClassVar[str] = "bandit"
    slack_factor: float | None = None
    slack_amount: float | None = None
    evaluation_interval: int = 1
    delay_evaluation: int = 0

    def __post_init__(self) -> None:
        self._check_common()
        if (self.slack_factor is None) == (self.slack_amount is None):
            raise ConfigError(
                Problem("BanditPolicy needs exactly one of slack_factor and slack_amount")
            )
        for name in ("slack_factor", "slack_amount"):
            value = getattr(self, name)
            if value is not None:
                value = _check("BanditPolicy", name, real(0.0, low_open=True), value)
                object.__setattr__(self, name, value)


@dataclass(frozen=True)
class MedianStoppingPolicy(_Policy):
    """Stop a trial whose best metric is below the median of the running averages."""

    type: ClassVar[str] = "median_stopping"
    evaluation_interval: int = 1
    delay_evaluation: int = 0

    def __post_init__(self) -> None:
        self._check_common()


@dataclass(frozen=True)
class TruncationSelectionPolicy(_Policy):
    """At each evaluation, stop the lowest ``truncation_percentage`` % of the trials."""

    type: ClassVar[str] = "truncation_selection"
    truncation_percentage: int = 0
    evaluation_interval: int = 1
    delay_evaluation: int = 0
    exclude_finished_jobs: bool = False

    def __post_init__(self) -> None:
        self._check_common()
        object.__setattr__(
            self,
            "truncation_percentage",
            _check(
                "TruncationSelectionPolicy",
                "truncation_percentage",
                integer(1, 99),
                self.truncation_percentage,
            ),
        )
        object.__setattr__(
            self,
            "exclude_finished_jobs",
            _check(
                "TruncationSelectionPolicy",
                "exclude_finished_jobs",
                to_flag,
                self.exclude_finished_jobs,
            ),
        )


EarlyTerminationPolicy = BanditPolicy | MedianStoppingPolicy | TruncationSelectionPolicy

POLICIES: dict[str, type[_Policy]] = {
    cls.type: cls for cls in (BanditPolicy, MedianStoppingPolicy, TruncationSelectionPolicy)
}
"""Policy ``type:`` name -> class."""


@dataclass(frozen=True)
class SweepSettings:
    """How trials are sampled and stopped early.

    Attributes:
        sampling_algorithm: ``random``, ``grid`` or ``bayesian``.
        early_termination: A policy, or None (the default: every trial runs to the end).
    """

    sampling_algorithm: str = "random"
    early_termination: EarlyTerminationPolicy | None = None

    def __post_init__(self) -> None:
        algorithm = str(self.sampling_algorithm).strip().lower()
        if algorithm not in SAMPLING_ALGORITHMS:
            raise ConfigError(
                Problem(
                    f"sampling_algorithm must be one of: {', '.join(SAMPLING_ALGORITHMS)}",
                    value=repr(self.sampling_algorithm),
                    suggestion=suggest(algorithm, SAMPLING_ALGORITHMS),
                )
            )
        object.__setattr__(self, "sampling_algorithm", algorithm)
        if self.early_termination is not None and not isinstance(
            self.early_termination, tuple(POLICIES.values())
        ):
            raise ConfigError(
                Problem(
                    "early_termination must be a BanditPolicy, MedianStoppingPolicy or "
                    "TruncationSelectionPolicy",
                    value=repr(self.early_termination),
                )
            )

    def to_dict(self) -> dict[str, Any]:
        """The YAML form of the ``sweep`` block."""
        out: dict[str, Any] = {"sampling_algorithm": self.sampling_algorithm}
        if self.early_termination is not None:
            out["early_termination"] = self.early_termination.to_dict()
        return out


def policy_type_name(value: Any) -> str:
    """``"Bandit"``, ``"MedianStopping"``, ``"median_stopping"`` -> the YAML type name."""
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", str(value).strip()).lower()
    text = text.replace("-", "_").replace(" ", "_")
    return text[: -len("_policy")] if text.endswith("_policy") else text


def parse_policy(value: Any) -> EarlyTerminationPolicy | None:
    """A policy from its mapping form (``{type: bandit, ...}``) or a policy object.

    Raises:
        ConfigError: Unknown type or keys (with suggestions), or out-of-range values; problem
            paths are relative to the ``early_termination`` mapping.
    """
    if value is None or isinstance(
        value, (BanditPolicy, MedianStoppingPolicy, TruncationSelectionPolicy)
    ):
        return value
    if isinstance(value, str) and policy_type_name(value) in ("none", ""):
        return None
    if not isinstance(value, Mapping):
        raise ConfigError(
            Problem("must be a mapping with a 'type' (bandit, median_stopping, ...)")
        )
    if "type" not in value:
        raise ConfigError(Problem("'type' is required (bandit, median_stopping, ...)"))
    kind = policy_type_name(value["type"])
    if kind == "none":
        return None
    cls = POLICIES.get(kind)
    if cls is None:
        raise ConfigError(
            Problem(
                f"unknown early_termination type; expected one of: {', '.join(POLICIES)}",
                path="type",
                value=repr(value["type"]),
                suggestion=suggest(kind, POLICIES),
            )
        )
    names = [f.name for f in fields(cls)]
    problems = [
        Problem(f"unknown key for {kind}", path=str(k), suggestion=suggest(str(k), names))
        for k in value
        if k != "type" and k not in names
    ]
    if problems:
        raise ConfigError(problems)
    kwargs = {k: v for k, v in value.items() if k != "type"}
    if cls is TruncationSelectionPolicy and "truncation_percentage" not in kwargs:
        raise ConfigError(Problem("truncation_percentage is required", path="type"))
    policy: Any = cls(**kwargs)
    return policy
