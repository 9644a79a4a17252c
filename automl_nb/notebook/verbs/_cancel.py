"""``cancel``: stop a job or one of its trials."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.cli._jobs_common import split_trial_target
from automl_nb.notebook._jobs import resolve_job
from automl_nb.notebook._results import Message

HELP = """Cancel a job, or one trial of it: JOB, JOB/TRIAL, or /TRIAL for the last job.

The default JOB is the last submitted. Finished trials and the best model are kept.
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing beyond the shared arguments (:mod:`automl_nb.cli._verb_table`)."""


def run(args: argparse.Namespace, ctx: Any) -> Message:
    ref, trial = split_trial_target(args.target)
    job = resolve_job(ctx, ref)
    job.cancel(trial)
    if trial is not None:
        return Message(f"asked trial {trial} of job {job.id} to stop")
    if args.wait:
        return Message(f"job {job.id}: {job.wait(timeout=120)}")
    return Message(f"asked job {job.id} to stop (status: {job.status})")
