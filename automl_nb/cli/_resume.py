"""``automl-vision resume JOB``: continue a stopped or crashed job."""

from __future__ import annotations

import argparse

from automl_nb.cli._jobs_common import find_job
from automl_nb.cli._verb_table import CommandContext

HELP = "continue a stopped or crashed job without redoing finished trials"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing beyond :func:`automl_nb.cli._verb_table.resume_arguments`."""


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Start a new controller for the job."""
    job = find_job(args.job, ctx.workspace).resume()
    print(f"{job.id}: resumed")
    if args.wait:
        print(f"{job.id}: {job.wait()}")
    return 0
