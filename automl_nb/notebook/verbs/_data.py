"""``data``: preview a dataset: images with their labels drawn, class counts, problems."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.notebook._datasets import add_dataset_arguments
from automl_nb.notebook._datasets import dataset_from_args

HELP = """Preview the draft's training data (or --validation, or --file PATH): a page of
images with labels, boxes or polygons drawn, images/objects per class, and the dataset
doctor's findings (skip them with --no-check).
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_dataset_arguments(parser)
    parser.add_argument("--no-check", action="store_true", help="skip the dataset doctor")
    parser.add_argument("--per-page", type=int, help="images per page")


def run(args: argparse.Namespace, ctx: Any) -> Any:
    from automl_nb.notebook.widgets import DataPreview

    data, validation = dataset_from_args(args, ctx)
    report = None
    if not args.no_check:
        from automl_nb.data.doctor import diagnose
        from automl_nb.data.doctor._doctor import DEFAULT_MAX_SIZE

        input_size, max_size = _draft_sizes(ctx, data.task)
        report = diagnose(
            data,
            validation=validation,
            input_size=input_size,
            max_size=DEFAULT_MAX_SIZE if max_size is None else max_size,
        )
    return DataPreview(data, report=report, per_page=args.per_page or ctx.settings.preview_images)


def _draft_sizes(ctx: Any, task: Any) -> tuple[int | None, int | None]:
    """``(input size, max_size)`` the draft trains at (what the doctor sizes objects
    against): ``training_crop_size`` for classifiers, ``min_size`` (or yolov5's
    ``image_size``) and ``max_size`` for detectors; None where the draft leaves the default."""
    params = ctx.state.draft.to_dict().get("training_parameters") or {}
    keys = ("min_size", "image_size") if task.is_detection else ("training_crop_size",)
    input_size = next((params[k] for k in keys if isinstance(params.get(k), int)), None)
    max_size = params.get("max_size") if task.is_detection else None
    return input_size, max_size if isinstance(max_size, int) else None
