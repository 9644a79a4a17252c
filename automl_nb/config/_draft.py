"""``JobDraft``: a job built cell by cell from YAML fragments and mappings."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml

from automl_nb.config._job import JobSpec
from automl_nb.config._job import job_fields_to_dict
from automl_nb.config._load import read_source
from automl_nb.config._merge import deep_merge
from automl_nb.config._report import Reporter
from automl_nb.config._validate import validate_job
from automl_nb.config._yaml import Mark
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.tasks import Task


class JobDraft:
    """A job that may still be incomplete, validated on every change.

    Each :meth:`merge` deep-merges a fragment (mappings merge, lists and scalars replace) and
    validates the result at once; a fragment with an invalid key or value raises
    :class:`ConfigError` and leaves the draft as it was. Missing required keys are not errors
    until :attr:`spec` is asked for.

    Args:
        task: The task, if already known.

    Example:
        >>> draft = JobDraft("image_object_detection")
        >>> _ = draft.merge("limits: {max_trials: 4}")
        >>> [p.path for p in draft.problems()]
        ['target_column_name', 'training_data']
        >>> _ = draft.merge({"target_column_name": "label", "training_data": {"path": "data/od"}})
        >>> draft.spec.limits.max_trials
        4
    """

    def __init__(self, task: Task | str | None = None):
        self._data: dict[str, Any] = {}
        self._values: dict[tuple, Mark] = {}
        self._keys: dict[tuple, Mark] = {}
        self._fields: dict[str, Any] = {}
        self._missing: list[Problem] = []
        self._validate(self._data, {}, {})
        if task is not None:
            self.merge({"task": str(task)})

    def merge(self, fragment: str | Mapping[str, Any], *, source: str | None = None) -> JobDraft:
        """Merge a YAML fragment (text) or a mapping into the draft.

        Args:
            fragment: YAML text (``"training_parameters: {learning_rate: 0.01}"``) or a mapping.
            source: A name for the fragment in error messages (e.g. ``"cell 3"``).

        Returns:
            The draft itself, for chaining.

        Raises:
            ConfigError: The merged job has invalid keys or values; the draft is unchanged.
        """
        located, _ = read_source(fragment, source)
        if located.data is None:
            return self
        if not isinstance(located.data, Mapping):
            raise ConfigError(
                Problem("a fragment must be a mapping of job keys", file=source, line=1)
            )
        data = deep_merge(copy.deepcopy(self._data), located.data)
        values = {**self._values, **located.values}
        keys = {**self._keys, **located.keys}
        self._validate(data, values, keys)
        return self

    def _validate(self, data: dict, values: dict, keys: dict) -> None:
        rep = Reporter(values, keys)
        fields = validate_job(data, rep)
        if rep.errors or fields is None:
            raise ConfigError(rep.errors, header="the fragment was not merged:")
        self._data, self._values, self._keys = data, values, keys
        self._fields, self._missing = fields, rep.missing

    def problems(self) -> list[Problem]:
        """What is still missing before the draft is a complete job (empty when complete)."""
        return list(self._missing)

    @property
    def is_complete(self) -> bool:
        """True when :attr:`spec` can be built."""
        return not self._missing

    @property
    def spec(self) -> JobSpec:
        """The complete :class:`JobSpec`.

        Raises:
            ConfigError: Listing what is still missing.
        """
        if self._missing:
            raise ConfigError(self._missing, header="the job is not complete yet:")
        return JobSpec(**self._fields)

    @property
    def raw(self) -> dict[str, Any]:
        """A copy of the merged input data, as given (before normalization)."""
        return copy.deepcopy(self._data)

    def to_dict(self) -> dict[str, Any]:
        """The normalized job so far as plain YAML data (v2 names)."""
        return job_fields_to_dict(self._fields)

    def to_yaml(self) -> str:
        """The normalized job so far as YAML text (v2 names)."""
        return yaml.safe_dump(
            self.to_dict(), sort_keys=False, default_flow_style=False, width=1000
        )

    def copy(self) -> JobDraft:
        """An independent copy of this draft."""
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        task = self._fields.get("task")
        state = "complete" if self.is_complete else f"{len(self._missing)} missing"
        return f"JobDraft(task={task.value if task else None!r}, {state})"
