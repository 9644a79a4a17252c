"""SDK-style builders with the Azure ``azure.ai.ml.automl`` v2 names.

``image_classification(...)`` and friends return a job builder whose ``set_limits``,
``set_training_parameters``, ``extend_search_space`` and ``set_sweep`` validate at once (a bad
call raises :class:`ConfigError` and changes nothing); ``to_spec()`` gives the same
:class:`JobSpec` as the equivalent YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from automl_nb.config._draft import JobDraft
from automl_nb.config._fields import CLASSIFICATION
from automl_nb.config._fields import DETECTION
from automl_nb.config._job import DataInput
from automl_nb.config._job import JobSpec
from automl_nb.config._job import Limits
from automl_nb.config._names import TRAINING_ALIASES
from automl_nb.config._names import suggest
from automl_nb.config._parameters import TRAINING_FIELDS
from automl_nb.config._parameters import TrainingParameters
from automl_nb.config._sweep_settings import SweepSettings
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.tasks import Task


class _SearchSpace:
    """A sub-space of ``search_space``: parameter name -> distribution or fixed value."""

    _tasks: frozenset[Task] = frozenset()

    def __init__(self, **params: Any):
        names = [n for n, f in TRAINING_FIELDS.items() if f.tasks & self._tasks]
        aliases = [a for a, n in TRAINING_ALIASES.items() if n in names]
        problems = [
            Problem(
                f"unknown parameter for {type(self).__name__}",
                path=key,
                suggestion=suggest(key, names + aliases),
            )
            for key in params
            if key not in names and key not in aliases
        ]
        if problems:
            raise ConfigError(problems)
        self._params = {k: v for k, v in params.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        """The parameters that are set."""
        return dict(self._params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._params == self._params


class ImageClassificationSearchSpace(_SearchSpace):
    """A sub-space for multi-class and multi-label classification (v2 parameter names)."""

    _tasks = CLASSIFICATION


class ImageObjectDetectionSearchSpace(_SearchSpace):
    """A sub-space for object detection and instance segmentation (v2 parameter names)."""

    _tasks = DETECTION


class ImageJob:
    """A job under construction, as returned by :func:`image_classification` and friends.

    Every setter validates the whole job at once; see the module docstring.
    """

    def __init__(self, task: Task, **job_keys: Any):
        self._draft = JobDraft()
        data: dict[str, Any] = {"task": task.value}
        data.update({k: v for k, v in job_keys.items() if v is not None})
        self._draft.merge(data)
        self._search_space: list[Any] = []

    @property
    def task(self) -> Task:
        """The job's task."""
        return Task(self._draft.to_dict()["task"])

    def set_limits(
        self,
        *,
        max_trials: int | None = None,
        max_concurrent_trials: int | None = None,
        timeout_minutes: int | None = None,
        trial_timeout_minutes: int | None = None,
        **unknown: Any,
    ) -> ImageJob:
        """Set ``limits`` (unset arguments keep their earlier or default values).

        Raises:
            ConfigError: An unknown keyword (naming the nearest limit) or a bad value.
        """
        if unknown:
            names = [
                "max_trials",
                "max_concurrent_trials",
                "timeout_minutes",
                "trial_timeout_minutes",
            ]
            raise ConfigError(
                [
                    Problem("unknown limit", path=f"limits.{k}", suggestion=suggest(k, names))
                    for k in unknown
                ]
            )
        given = {
            "max_trials": max_trials,
            "max_concurrent_trials": max_concurrent_trials,
            "timeout_minutes": timeout_minutes,
            "trial_timeout_minutes": trial_timeout_minutes,
        }
        self._draft.merge({"limits": {k: v for k, v in given.items() if v is not None}})
        return self

    def set_training_parameters(self, **params: Any) -> ImageJob:
        """Set fixed ``training_parameters`` (v2 names; v1 names are accepted too)."""
        self._draft.merge({"training_parameters": {k: v for k, v in params.items()}})
        return self

    def extend_search_space(
        self, value: _SearchSpace | Mapping[str, Any] | Sequence[Any]
    ) -> ImageJob:
        """Append one or more sub-spaces (search-space objects or mappings)."""
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        start = len(self._search_space)
        bad = [
            Problem(
                f"expected a SearchSpace or a mapping, not {type(item).__name__}",
                path=f"search_space[{start + i}]",
            )
            for i, item in enumerate(items)
            if not isinstance(item, (_SearchSpace, Mapping))
        ]
        if bad:
            raise ConfigError(bad)
        items = [i.to_dict() if isinstance(i, _SearchSpace) else dict(i) for i in items]
        self._draft.merge({"search_space": [*self._search_space, *items]})
        self._search_space.extend(items)
        return self

    def set_sweep(
        self,
        *,
        sampling_algorithm: str = "random",
        early_termination: Any = None,
    ) -> ImageJob:
        """Set the sampling algorithm and the early-termination policy (None: no policy)."""
        self._draft.merge(
            {
                "sweep": {
                    "sampling_algorithm": str(
                        getattr(sampling_algorithm, "value", sampling_algorithm)
                    ),
                    "early_termination": early_termination,
                }
            }
        )
        return self

    @property
    def limits(self) -> Limits:
        """The current ``limits``."""
        return self._draft._fields.get("limits") or Limits()

    @property
    def training_parameters(self) -> TrainingParameters:
        """The current ``training_parameters``."""
        return self._draft._fields.get("training_parameters") or TrainingParameters()

    @property
    def search_space(self) -> tuple[dict[str, Any], ...]:
        """The current, normalized sub-spaces."""
        return self._draft._fields.get("search_space") or ()

    @property
    def sweep(self) -> SweepSettings | None:
        """The current ``sweep`` settings."""
        return self._draft._fields.get("sweep")

    def to_spec(self) -> JobSpec:
        """The validated :class:`JobSpec` (raises :class:`ConfigError` if incomplete)."""
        return self._draft.spec

    def to_dict(self) -> dict[str, Any]:
        """The job as plain YAML data."""
        return self._draft.to_dict()

    def to_yaml(self) -> str:
        """The job as YAML text (v2 names)."""
        return self._draft.to_yaml()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(task={self.task.value!r})"


def _job(
    task: Task,
    *,
    training_data: DataInput | str | Mapping[str, Any],
    target_column_name: str,
    primary_metric: str | None = None,
    validation_data: DataInput | str | Mapping[str, Any] | None = None,
    validation_data_size: float | None = None,
    log_verbosity: str | None = None,
    **kwargs: Any,
) -> ImageJob:
    allowed = (
        "name",
        "display_name",
        "experiment_name",
        "description",
        "compute",
        "tags",
        "properties",
        "outputs",
    )
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        raise ConfigError(
            [Problem("unknown argument", path=k, suggestion=suggest(k, allowed)) for k in unknown]
        )
    return ImageJob(
        task,
        training_data=training_data,
        target_column_name=target_column_name,
        primary_metric=primary_metric,
        validation_data=validation_data,
        validation_data_size=validation_data_size,
        log_verbosity=log_verbosity,
        **kwargs,
    )


def image_classification(
    *,
    training_data: DataInput | str | Mapping[str, Any],
    target_column_name: str,
    primary_metric: str | None = None,
    validation_data: DataInput | str | Mapping[str, Any] | None = None,
    validation_data_size: float | None = None,
    **kwargs: Any,
) -> ImageJob:
    """A multi-class image classification job (Azure SDK ``automl.image_classification``).

    Args:
        training_data: ``Input(type="mltable", path=...)``, a path, or a mapping.
        target_column_name: The label column, usually ``"label"``.
        primary_metric: Optional; must be the task's metric (``accuracy``).
        validation_data: Like ``training_data``; else a split of ``validation_data_size``.
        validation_data_size: Fraction split off for validation (default 0.2).
        **kwargs: ``log_verbosity``, ``name``, ``display_name``, ``experiment_name``,
            ``description``, ``compute``, ``tags``, ``properties``, ``outputs``.

    Returns:
        An :class:`ImageJob`.

    Raises:
        ConfigError: Unknown arguments or invalid values.

    Example:
        >>> from automl_nb.config import Input
        >>> job = image_classification(
        ...     training_data=Input(type="mltable", path="data/train"),
        ...     target_column_name="label",
        ... )
        >>> job.set_limits(max_trials=1).to_spec().task.value
        'image_classification'
    """
    return _job(
        Task.CLASSIFICATION,
        training_data=training_data,
        target_column_name=target_column_name,
        primary_metric=primary_metric,
        validation_data=validation_data,
        validation_data_size=validation_data_size,
        **kwargs,
    )


def image_classification_multilabel(**arguments: Any) -> ImageJob:
    """A multi-label classification job; arguments as :func:`image_classification`."""
    return _job(Task.CLASSIFICATION_MULTILABEL, **arguments)


def image_object_detection(**arguments: Any) -> ImageJob:
    """An object detection job; arguments as :func:`image_classification`."""
    return _job(Task.OBJECT_DETECTION, **arguments)


def image_instance_segmentation(**arguments: Any) -> ImageJob:
    """An instance segmentation job; arguments as :func:`image_classification`."""
    return _job(Task.INSTANCE_SEGMENTATION, **arguments)
