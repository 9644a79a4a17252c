"""``best``: the best trial of a job, its metrics and plots."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.cli._verb_table import job_arguments
from automl_nb.notebook._job_views import BestView
from automl_nb.notebook._jobs import job_settings
from automl_nb.notebook._jobs import resolve_job_with_model

HELP = """Show the best trial of a job: score, hyperparameters, final metrics and the model
folder's plots (default JOB: the last submitted, or the newest job with a best model when
that one has none). .model_dir is the folder to predict with.
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    job_arguments(parser)


def run(args: argparse.Namespace, ctx: Any) -> BestView:
    job = resolve_job_with_model(ctx, args.job)
    metric = job.status_record().get("primary_metric") or job_settings(job)[0]
    return BestView(job, job.best_trial(), metric)
