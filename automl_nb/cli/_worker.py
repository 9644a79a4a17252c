"""``automl-vision worker JOB --storage URL``: join a sweep from another machine."""

from __future__ import annotations

import argparse
import logging

from automl_nb.cli._jobs_common import add_datastore_argument
from automl_nb.cli._jobs_common import add_workspace_argument
from automl_nb.cli._verb_table import CommandContext

HELP = "join a running sweep (shared Optuna storage) and run trials on this machine"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``worker``."""
    add_datastore_argument(parser)
    parser.add_argument("job", help="job id (the study name in the shared storage)")
    parser.add_argument("--storage", required=True, help="database URL shared by the workers")
    add_workspace_argument(parser)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Run trials of the job here until its budget is used up."""
    from automl_nb.runner._worker_join import join_sweep

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    final = join_sweep(args.job, storage=args.storage, workspace=args.workspace)
    print(f"{args.job}: worker finished ({final})")
    return 0
