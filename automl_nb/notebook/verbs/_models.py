"""``models``: the model names a job may use."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.notebook._results import TableResult

HELP = """List the model names (training_parameters.model_name) for a task.

Without --task, the current draft's task is used (all tasks when it has none).
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing beyond the shared arguments (:mod:`automl_nb.cli._verb_table`)."""


def run(args: argparse.Namespace, ctx: Any) -> TableResult:
    from automl_nb.models import default_model
    from automl_nb.models import list_models
    from automl_nb.tasks import TASK_NAMES

    if args.task:
        tasks = [args.task]
    else:
        task = ctx.state.draft.to_dict().get("task")
        tasks = [task] if task else list(TASK_NAMES)
    rows = []
    for task in tasks:
        default = default_model(task)
        for name in list_models(task, pattern=args.pattern):
            rows.append([name, task, "default" if name == default else ""])
    return TableResult("models", ["model_name", "task", ""], rows)
