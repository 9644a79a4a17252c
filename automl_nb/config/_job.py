"""The typed job spec: :class:`JobSpec` and its sections."""

from __future__ import annotations

import os
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from typing import Any

from automl_nb.config._fields import integer
from automl_nb.config._parameters import TRAINING_FIELDS
from automl_nb.config._parameters import TrainingParameters
from automl_nb.config._search_space import dump_search_value
from automl_nb.config._sweep_settings import SweepSettings
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.tasks import Task

DATA_TYPES = ("mltable", "uri_file", "uri_folder", "jsonl")
DATA_MODES = ("ro_mount", "rw_mount", "download", "direct", "eval_mount", "eval_download")


@dataclass(frozen=True)
class DataInput:
    """``training_data`` / ``validation_data``: a path and its type.

    Attributes:
        path: An MLTable folder, a JSONL file or a URI; relative paths are relative to the job
            YAML's folder (see :meth:`JobSpec.resolve_path`).
        type: ``mltable`` (Azure's only image type), ``uri_file``, ``uri_folder`` or ``jsonl``.
        mode: Azure's mount mode; accepted and ignored locally.
    """

    path: str
    type: str = "mltable"
    mode: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The YAML form ``{path, type[, mode]}``."""
        out: dict[str, Any] = {"path": self.path, "type": self.type}
        if self.mode is not None:
            out["mode"] = self.mode
        return out


def Input(*, type: str = "mltable", path: str, mode: str | None = None) -> DataInput:  # noqa: A002
    """The Azure SDK's ``Input(type=AssetTypes.MLTABLE, path=...)``, as a :class:`DataInput`.

    Args:
        type: ``mltable`` (default), ``uri_file``, ``uri_folder`` or ``jsonl``.
        path: The data path.
        mode: Azure mount mode (ignored locally).

    Returns:
        A :class:`DataInput`.
    """
    return DataInput(path=str(path), type=str(type).lower(), mode=mode)


_LIMIT_RANGES = {
    "max_trials": integer(1, 1000),
    "max_concurrent_trials": integer(1, 100),
    "timeout_minutes": integer(1, 86400),
    "trial_timeout_minutes": integer(1),
}


@dataclass(frozen=True)
class Limits:
    """``limits``: how many trials, how many at once, and the time limits (minutes).

    ``max_concurrent_trials`` is capped at ``max_trials``.
    """

    max_trials: int = 1
    max_concurrent_trials: int = 1
    timeout_minutes: int = 10080
    trial_timeout_minutes: int = 43200

    def __post_init__(self) -> None:
        from automl_nb.config._fields import Invalid

        problems = []
        for name, parse in _LIMIT_RANGES.items():
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, parse(value))
            except Invalid as exc:
                problems.append(Problem(f"{name} {exc}", path=name, value=repr(value)))
        if problems:
            raise ConfigError(problems)
        if self.max_concurrent_trials > self.max_trials:
            object.__setattr__(self, "max_concurrent_trials", self.max_trials)

    def to_dict(self) -> dict[str, int]:
        """The YAML form of ``limits``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


SearchSpace = tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class JobSpec:
    """A validated AutoML-for-Images job.

    Build it with :func:`load_job`, a :class:`JobDraft` or the SDK-style builders; the
    constructor is for code that already holds typed values.
    """

    task: Task
    target_column_name: str = "label"
    training_data: DataInput | None = None
    validation_data: DataInput | None = None
    validation_data_size: float = 0.2
    primary_metric: str = ""
    name: str | None = None
    display_name: str | None = None
    experiment_name: str | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    compute: str = "local"
    log_verbosity: str | None = None
    limits: Limits = field(default_factory=Limits)
    training_parameters: TrainingParameters = field(default_factory=TrainingParameters)
    search_space: SearchSpace = ()
    sweep: SweepSettings | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    # ``$schema`` is editor metadata, not part of what the job means.
    schema: str | None = field(default=None, compare=False)
    source_path: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "task", Task(self.task))
        object.__setattr__(self, "primary_metric", self.task.primary_metric)
        object.__setattr__(self, "search_space", tuple(self.search_space))

    @property
    def is_automode(self) -> bool:
        """True when ``max_trials > 1`` and there is no search space: the system picks."""
        return self.limits.max_trials > 1 and not self.search_space

    @property
    def is_sweep(self) -> bool:
        """True when more than one trial runs (a search space or AutoMode)."""
        return self.limits.max_trials > 1 or bool(self.search_space)

    def resolve_path(self, path: str) -> str:
        """A data path as given in the YAML, made absolute against the YAML's folder.

        URIs (``scheme://...``, ``azureml:...``) and absolute paths are returned unchanged;
        without a YAML file, relative paths stay relative to the working directory.
        """
        text = str(path)
        if "://" in text or text.startswith("azureml:") or os.path.isabs(text):
            return text
        if text.startswith("file:"):
            return text
        if self.source_path is None:
            return text
        return os.path.normpath(os.path.join(os.path.dirname(self.source_path), text))

    def to_dict(self) -> dict[str, Any]:
        """The job as plain YAML-ready data, v2 names (see :func:`dump_job`)."""
        return job_fields_to_dict({f.name: getattr(self, f.name) for f in fields(self)})


def job_fields_to_dict(values: dict[str, Any]) -> dict[str, Any]:
    """Plain YAML data from :class:`JobSpec` field values (also used for partial drafts)."""
    out: dict[str, Any] = {}
    if values.get("schema"):
        out["$schema"] = values["schema"]
    out["type"] = "automl"
    for key in ("name", "display_name", "experiment_name", "description"):
        if values.get(key) is not None:
            out[key] = values[key]
    if values.get("tags"):
        out["tags"] = dict(values["tags"])
    out["compute"] = values.get("compute") or "local"
    task = values.get("task")
    if task is not None:
        out["task"] = Task(task).value
        out["primary_metric"] = Task(task).primary_metric
    if values.get("log_verbosity") is not None:
        out["log_verbosity"] = values["log_verbosity"]
    if values.get("target_column_name") is not None:
        out["target_column_name"] = values["target_column_name"]
    for key in ("training_data", "validation_data"):
        if values.get(key) is not None:
            out[key] = values[key].to_dict()
    if values.get("validation_data_size") is not None:
        out["validation_data_size"] = values["validation_data_size"]
    out["limits"] = (values.get("limits") or Limits()).to_dict()
    params = values.get("training_parameters")
    if params is not None and params.to_dict():
        out["training_parameters"] = params.to_yaml_dict()
    if values.get("sweep") is not None:
        out["sweep"] = values["sweep"].to_dict()
    if values.get("search_space"):
        out["search_space"] = [
            {k: dump_search_value(v, TRAINING_FIELDS.get(k)) for k, v in sub.items()}
            for sub in values["search_space"]
        ]
    if values.get("properties"):
        props = dict(values["properties"])
        if "node_count_per_trial" in props:
            # Azure writes it as a string.
            props["node_count_per_trial"] = str(props["node_count_per_trial"])
        out["properties"] = props
    if values.get("outputs"):
        out["outputs"] = {k: dict(v) for k, v in values["outputs"].items()}
    return out
