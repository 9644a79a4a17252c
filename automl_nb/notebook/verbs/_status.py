"""``status``: a job's state and trials."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.notebook._job_views import JobView
from automl_nb.notebook._jobs import resolve_job
from automl_nb.notebook._jobs import take_snapshot

HELP = """Show a job's status, folder and trials (default JOB: the last submitted)."""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing beyond the shared arguments (:mod:`automl_nb.cli._verb_table`)."""


def run(args: argparse.Namespace, ctx: Any) -> JobView:
    job = resolve_job(ctx, args.job)
    return JobView(job, take_snapshot(job))
