"""``check``: the dataset doctor on the draft's data."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.cli._jobs_common import applied_datastores
from automl_nb.notebook._datasets import dataset_from_args

HELP = """Run the dataset doctor on the draft's training data (duplicates across the split
included when there is validation data): counts per class, object sizes at the model input,
broken files, duplicates, and recommended settings as job YAML.
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing beyond the shared arguments (:mod:`automl_nb.cli._verb_table`)."""


def run(args: argparse.Namespace, ctx: Any) -> Any:
    from automl_nb.data.doctor import diagnose

    with applied_datastores(args):
        data, validation = dataset_from_args(args, ctx)
        return diagnose(
            data, validation=validation, input_size=args.input_size, check_files=not args.no_files
        )
