"""``new``: start a new job draft."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

from automl_nb.cli._jobs_common import TASK_ALIASES
from automl_nb.cli._jobs_common import task_name
from automl_nb.config import JobDraft
from automl_nb.notebook._results import DraftView

HELP = """Start a new job draft for TASK (replaces the current draft).

TASK is an Azure task name (image_classification, image_classification_multilabel,
image_object_detection, image_instance_segmentation) or a short form (classification,
multilabel, detection, segmentation). Then fill the draft with %%automl_vision config cells,
the builder, or current_draft().merge(...) in Python.

example:
  %automl_vision new image_object_detection --name fridge
"""
CELL = "none"

# The short task names, shared with the command line.
ALIASES = TASK_ALIASES


def resolve_task(text: str) -> str:
    """A task name from its Azure or short form.

    Raises:
        UsageError: Unknown task, with the closest names.
    """
    try:
        return task_name(text)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("task", help="the task (see above)")
    parser.add_argument("--name", help="the job name (job folders are named after it)")
    parser.add_argument("--experiment", help="experiment_name (the workspace sub-folder)")


def run(args: argparse.Namespace, ctx: Any) -> DraftView:
    draft = JobDraft(resolve_task(args.task))
    fragment: dict[str, Any] = {}
    if args.name:
        fragment["name"] = args.name
    if args.experiment:
        fragment["experiment_name"] = args.experiment
    if ctx.settings.default_compute and ctx.settings.default_compute != "local":
        fragment["compute"] = ctx.settings.default_compute
    if fragment:
        draft.merge(fragment, source="%automl_vision new")
    ctx.state.draft = draft
    return DraftView(draft, note=f"new {draft.to_dict()['task']} draft", full=False)
