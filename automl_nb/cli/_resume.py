"""``automl-vision resume JOB``: continue a stopped or crashed job."""

from __future__ import annotations

import argparse

from automl_nb.cli._jobs_common import add_workspace_argument

HELP = "continue a stopped or crashed job without redoing finished trials"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``resume``."""
    parser.add_argument("job", help="job id")
    add_workspace_argument(parser)
    parser.add_argument("--wait", action="store_true", help="wait until the job ends")


def run(args: argparse.Namespace) -> int:
    """Start a new controller for the job."""
    from automl_nb.runner import get_job

    job = get_job(args.job, workspace=args.workspace).resume()
    print(f"{job.id}: resumed")
    if args.wait:
        print(f"{job.id}: {job.wait()}")
    return 0
