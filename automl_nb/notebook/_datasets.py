"""The dataset a data verb is about: the draft's, or a file named on the line."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """``--validation``, ``--file PATH`` and ``--task T``."""
    parser.add_argument(
        "--validation", action="store_true", help="the draft's validation_data instead"
    )
    parser.add_argument("--file", help="a JSONL file or MLTable folder instead of the draft's")
    parser.add_argument("--task", help="with --file: the task (default: the draft's)")


def dataset_from_args(args: argparse.Namespace, ctx: Any) -> tuple[Any, Any]:
    """``(LabeledImages, the other split or None)`` named by the arguments.

    Raises:
        UsageError: The draft has no task or no such data yet.
    """
    from automl_nb.data import read_dataset
    from automl_nb.notebook.verbs._new import resolve_task

    draft = ctx.state.draft.to_dict()
    task = resolve_task(args.task) if args.task else draft.get("task")
    if not task:
        raise UsageError("no task: %automl_vision new TASK first, or give --task")
    target = draft.get("target_column_name") or "label"
    named = getattr(args, "data", None) or args.file
    validation = args.validation
    if named:
        other_file = validation if isinstance(validation, str) else None
        return (
            read_dataset(named, task, target_column=target),
            read_dataset(other_file, task, target_column=target) if other_file else None,
        )
    if isinstance(validation, str):
        return read_dataset(validation, task, target_column=target), None
    key, other = ("validation_data", "training_data")
    if not validation:
        key, other = other, key
    if key not in draft:
        raise UsageError(f"the draft has no {key} yet (%%automl_vision config, or --file)")
    data = read_dataset(draft[key]["path"], task, target_column=target)
    second = None
    if other in draft and not validation:
        second = read_dataset(draft[other]["path"], task, target_column=target)
    return data, second
