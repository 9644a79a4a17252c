"""Job specs and trial configurations for tests, with no files needed."""

from __future__ import annotations

from typing import Any

from automl_nb.config import JobSpec
from automl_nb.config import TrialConfig
from automl_nb.config import load_job
from automl_nb.config import resolve_trial_config


def job_spec(task: str = "image_classification", **training: Any) -> JobSpec:
    """A minimal valid job of ``task`` whose ``training_parameters`` are ``training``.

    Example:
        >>> job_spec(learning_rate=0.02).training_parameters.learning_rate
        0.02
    """
    job: dict[str, Any] = {
        "task": task,
        "target_column_name": "label",
        "training_data": {"path": "train.jsonl", "type": "uri_file"},
    }
    if training:
        job["training_parameters"] = training
    return load_job(job)


def trial_config(
    task: str = "image_classification", model_name: str = "resnet18", **params: Any
) -> TrialConfig:
    """The resolved :class:`~automl_nb.config.TrialConfig` of one trial of ``model_name`` with
    ``params`` (v1 or v2 names) over the defaults.

    Example:
        >>> trial_config(optimizer="adamw").optimizer
        'adamw'
    """
    return resolve_trial_config(job_spec(task, model_name=model_name), params)
