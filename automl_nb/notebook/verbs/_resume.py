"""``resume``: restart a stopped or crashed job, or extend a sweep."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.notebook._job_views import JobView
from automl_nb.notebook._jobs import resolve_job
from automl_nb.notebook._jobs import take_snapshot

HELP = """Resume a stopped, canceled or crashed job: a new controller runs the trials left.

Finished trials are kept. The default JOB is the last submitted. --max-trials N extends a
finished sweep to N trials in all, --timeout-minutes M gives it M more minutes; the sampler
(or AutoMode) continues from every earlier trial.

examples:
  %automl_vision resume
  %automl_vision resume fridge-1a2b --max-trials 20 --timeout-minutes 10
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing beyond the shared arguments (:mod:`automl_nb.cli._verb_table`)."""


def run(args: argparse.Namespace, ctx: Any) -> JobView:
    job = resolve_job(ctx, args.job).resume(
        max_trials=args.max_trials, timeout_minutes=args.timeout_minutes
    )
    note = f"resumed {job.id}"
    if args.wait:
        note = f"job {job.id} {job.wait()}"
    return JobView(job, take_snapshot(job), note=note)
