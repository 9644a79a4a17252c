"""``automl-vision cancel JOB[/TRIAL]``: stop a job, or one of its trials."""

from __future__ import annotations

import argparse

from automl_nb.cli._jobs_common import find_job
from automl_nb.cli._jobs_common import split_trial_target
from automl_nb.cli._verb_table import CommandContext

HELP = "cancel a job (JOB) or one trial (JOB/TRIAL)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing beyond :func:`automl_nb.cli._verb_table.cancel_arguments`."""


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Ask the controller to stop the job or trial."""
    job_ref, trial = split_trial_target(args.target)
    job = find_job(job_ref, ctx.workspace)
    if trial is not None:
        job.cancel(trial=trial)
        print(f"trial {trial} of {job.id}: cancel requested")
        return 0
    job.cancel()
    if args.wait:
        job.wait(timeout=120)
    print(f"{job.id}: {job.status if args.wait else 'cancel requested'}")
    return 0
