"""``best``: the best trial of a job, its metrics and plots."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.notebook._job_views import BestView
from automl_nb.notebook._jobs import job_settings
from automl_nb.notebook._jobs import resolve_job

HELP = """Show the best trial of a job: score, hyperparameters, final metrics and the model
folder's plots (default JOB: the last submitted). .model_dir is the folder to predict with.
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", nargs="?", help="job id, unique id prefix or folder")


def run(args: argparse.Namespace, ctx: Any) -> BestView:
    job = resolve_job(ctx, args.job)
    metric = job.status_record().get("primary_metric") or job_settings(job)[0]
    return BestView(job, job.best_trial(), metric)
