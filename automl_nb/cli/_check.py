"""``automl-vision check DATA``: the dataset doctor on a JSONL file or MLTable folder."""

from __future__ import annotations

import argparse
import json

from automl_nb.cli._jobs_common import add_datastore_argument
from automl_nb.tasks import TASK_NAMES

HELP = "Check a dataset: class counts, object sizes, duplicates, broken files, recommendations."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``check``."""
    add_datastore_argument(parser)
    parser.add_argument("data", metavar="DATA", help="JSONL file or MLTable folder")
    parser.add_argument(
        "--task", choices=TASK_NAMES, help="task of DATA (default: guessed from the labels)"
    )
    parser.add_argument(
        "--validation",
        metavar="DATA",
        help="validation JSONL/MLTable: also look for train/validation duplicates",
    )
    parser.add_argument(
        "--input-size",
        type=int,
        metavar="N",
        help="model input: crop size (classification, default 224) or min_size (detection, default 600)",
    )
    parser.add_argument(
        "--no-files", action="store_true", help="use the labels only; do not open the images"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    """Print the doctor's report; exit status 1 when it found errors."""
    from automl_nb.data.doctor import diagnose

    report = diagnose(
        args.data,
        task=args.task,
        validation=args.validation,
        input_size=args.input_size,
        check_files=not args.no_files,
    )
    print(json.dumps(report.to_dict(), indent=2) if args.json else report)
    return 0 if report.ok else 1
