"""``trials``: the trials of a job as a table."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.notebook._job_views import TrialsView
from automl_nb.notebook._jobs import resolve_job
from automl_nb.notebook._jobs import take_snapshot

HELP = """List a job's trials: state, parameters, epoch, primary metric, elapsed time.

The default JOB is the last submitted one. The result's .trials is the list of TrialInfo.
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing beyond the shared arguments (:mod:`automl_nb.cli._verb_table`)."""


def run(args: argparse.Namespace, ctx: Any) -> TrialsView:
    job = resolve_job(ctx, args.job)
    return TrialsView(take_snapshot(job), job=job)
