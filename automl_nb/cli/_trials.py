"""``automl-vision trials JOB``: every trial with its hyperparameters and result."""

from __future__ import annotations

import argparse
import json

from automl_nb.cli._jobs_common import find_job
from automl_nb.cli._jobs_common import format_elapsed
from automl_nb.cli._jobs_common import format_score
from automl_nb.cli._jobs_common import format_table
from automl_nb.cli._verb_table import CommandContext

HELP = "list a job's trials: state, hyperparameters, epochs and scores"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json`` (the rest is :func:`automl_nb.cli._verb_table.status_arguments`)."""
    parser.add_argument("--json", action="store_true", help="print JSON with per-epoch metrics")


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Print the trials table."""
    job = find_job(args.job, ctx.workspace)
    trials = job.trials()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "number": t.number,
                        "state": t.state,
                        "hyperparameters": t.hyperparameters,
                        "best_score": t.best_score,
                        "metrics": t.metrics,
                        "error": t.error,
                    }
                    for t in trials
                ],
                default=str,
            )
        )
        return 0
    rows = [
        (
            t.number,
            t.state,
            t.epoch if t.epoch is not None else "-",
            format_score(t.best_score),
            format_elapsed(t.started, t.ended),
            ", ".join(f"{k}={v}" for k, v in t.hyperparameters.items()) or "(defaults)",
        )
        for t in trials
    ]
    print(
        format_table(["TRIAL", "STATE", "EPOCHS", "BEST", "ELAPSED", "HYPERPARAMETERS"], rows)
        if rows
        else "no trials yet"
    )
    return 0
