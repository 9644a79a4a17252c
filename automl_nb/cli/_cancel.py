"""``automl-vision cancel JOB[/TRIAL]``: stop a job, or one of its trials."""

from __future__ import annotations

import argparse

from automl_nb.cli._jobs_common import add_workspace_argument

HELP = "cancel a job (JOB) or one trial (JOB/TRIAL)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``cancel``."""
    parser.add_argument("target", help="JOB or JOB/TRIAL")
    add_workspace_argument(parser)
    parser.add_argument("--wait", action="store_true", help="wait until it has stopped")


def run(args: argparse.Namespace) -> int:
    """Ask the controller to stop the job or trial."""
    from automl_nb.runner import get_job

    job_id, _, trial = args.target.partition("/")
    job = get_job(job_id, workspace=args.workspace)
    if trial:
        job.cancel(trial=int(trial))
        print(f"trial {trial} of {job.id}: cancel requested")
        return 0
    job.cancel()
    if args.wait:
        job.wait(timeout=120)
    print(f"{job.id}: {job.status if args.wait else 'cancel requested'}")
    return 0
