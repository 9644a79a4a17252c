"""``automl-vision validate JOB.yml``: check a job spec and its data without training."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

from automl_nb.cli._jobs_common import add_datastore_argument
from automl_nb.cli._jobs_common import add_set_argument
from automl_nb.cli._jobs_common import datastore_arguments
from automl_nb.cli._jobs_common import load_job_with_overrides
from automl_nb.cli._verb_table import CommandContext
from automl_nb.errors import LocatedError

HELP = "check a job YAML and its data (labels, boxes, images); exit status 1 on any problem."
# A located problem (a bad --datastore included) is a validation result, not a crash.
PROBLEM_STATUS = 1

# How many dropped lines are shown as examples.
_EXAMPLES = 5
# Longer class lists are cut in the summary.
_MAX_CLASSES = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``validate``."""
    parser.add_argument("job", metavar="JOB.yml", help="Azure ML AutoML-for-Images job YAML")
    parser.add_argument(
        "--no-images",
        action="store_true",
        help="check the labels only; do not open the image files",
    )
    add_datastore_argument(parser)
    add_set_argument(parser)


def _count_line(data) -> str:
    images = len(data)
    if data.task.is_detection:
        objects = sum(len(r.label) for r in data.records)
        background = sum(1 for r in data.records if not r.label)
        text = f"{images} images, {objects} objects"
        return text + (f", {background} background images" if background else "")
    return f"{images} images"


def _describe_input(data_input, resolved: str) -> str:
    kind = "MLTable" if os.path.isdir(resolved) else data_input.type
    return f"{data_input.path} ({kind})"


def _summary(spec, train, valid, *, images_checked: bool) -> list[str]:
    lines = [f"{spec.source_path or 'job'}: {spec.task.value}: OK"]
    lines.append(
        f"  training data:   {_describe_input(spec.training_data, spec.resolve_path(spec.training_data.path))}"
        f" -> {_count_line(train)}"
    )
    if spec.validation_data is not None:
        where = _describe_input(spec.validation_data, spec.resolve_path(spec.validation_data.path))
    else:
        seed = spec.training_parameters.random_seed
        seed_text = f"random_seed {seed}" if seed is not None else "default seed"
        where = f"{spec.validation_data_size:g} of the training data ({seed_text})"
    lines.append(f"  validation data: {where} -> {_count_line(valid)}")
    counts: Counter[str] = train.label_counts() + valid.label_counts()
    unit = "objects" if spec.task.is_detection else "images"
    lines.append(f"  classes ({len(train.labels)}, {unit} per class):")
    width = max((len(name) for name in train.labels), default=0)
    for name in train.labels[:_MAX_CLASSES]:
        lines.append(
            f"    {name:<{width}}  {counts[name]:>6}  "
            f"(train {train.label_counts()[name]}, valid {valid.label_counts()[name]})"
        )
    if len(train.labels) > _MAX_CLASSES:
        lines.append(f"    ... and {len(train.labels) - _MAX_CLASSES} more")
    total = len(train) + len(valid)
    lines.append(
        f"  images: {total} checked, all readable"
        if images_checked
        else "  images: not opened (--no-images)"
    )
    dropped = [*train.dropped, *valid.dropped]
    if dropped:
        lines.append(f"  dropped (invalid_lines: drop): {len(dropped)} line(s); first ones:")
        lines.extend(f"    {p}" for p in dropped[:_EXAMPLES])
    return lines


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Validate the job and its data; print a summary (exit 0) or every problem (exit 1)."""
    from automl_nb.data import load_job_data
    from automl_nb.preflight import check_job

    try:
        datastores = datastore_arguments(args)
        spec = load_job_with_overrides(args)
        notes = check_job(spec)
        train, valid = load_job_data(
            spec, datastores=datastores, check_images=not args.no_images, progress=True
        )
    except LocatedError as exc:
        if exc.header:
            print(f"error: {exc.header}", file=sys.stderr)
            prefix = "  "
        else:
            prefix = "error: "
        for problem in exc.problems:
            print(f"{prefix}{problem}", file=sys.stderr)
        return 1
    for warning in [*notes, *train.warnings]:
        print(f"warning: {warning}", file=sys.stderr)
    print("\n".join(_summary(spec, train, valid, images_checked=not args.no_images)))
    return 0
