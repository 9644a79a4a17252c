"""``automl-vision check DATA``: the dataset doctor on a JSONL file or MLTable folder."""

from __future__ import annotations

import argparse
import json

from automl_nb.cli._verb_table import CommandContext
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

HELP = "Check a dataset: class counts, object sizes, duplicates, broken files, recommendations."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json`` (the rest is :func:`automl_nb.cli._verb_table.check_arguments`)."""
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Print the doctor's report; exit status 1 when it found errors."""
    from automl_nb.data.doctor import diagnose

    data = args.data or args.file
    if not data:
        raise ConfigError(Problem("give the JSONL file or MLTable folder to check", path="DATA"))
    if args.validation is True:
        raise ConfigError(Problem("give the validation file to compare", path="--validation"))
    report = diagnose(
        data,
        task=args.task,
        validation=args.validation,
        input_size=args.input_size,
        check_files=not args.no_files,
    )
    print(json.dumps(report.to_dict(), indent=2) if args.json else report)
    return 0 if report.ok else 1
