"""``automl-vision resume JOB``: continue a stopped or crashed job, or extend a sweep."""

from __future__ import annotations

import argparse

from automl_nb.cli._jobs_common import find_job
from automl_nb.cli._verb_table import CommandContext

HELP = "continue a stopped job, or extend a sweep (--max-trials, --timeout-minutes)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing beyond :func:`automl_nb.cli._verb_table.resume_arguments`."""


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Start a new controller for the job."""
    extended = [
        f"{name} {value}"
        for name, value in (
            ("max_trials", args.max_trials),
            ("timeout_minutes", args.timeout_minutes),
        )
        if value is not None
    ]
    job = find_job(args.job, ctx.workspace).resume(
        max_trials=args.max_trials, timeout_minutes=args.timeout_minutes
    )
    print(f"{job.id}: resumed" + (f" ({', '.join(extended)})" if extended else ""))
    if args.wait:
        print(f"{job.id}: {job.wait()}")
    return 0
