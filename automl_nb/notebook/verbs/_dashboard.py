"""``dashboard``: the live dashboard of a job."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.cli._verb_table import job_arguments
from automl_nb.notebook._jobs import resolve_job

HELP = """Show the live dashboard of a job (default: the last submitted, else the newest).

It re-reads the job folder in a background thread, so the kernel stays free, and it
re-attaches to a job still running after a kernel restart: %automl_vision dashboard JOB.
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    job_arguments(parser)
    parser.add_argument("--refresh", type=float, help="seconds between reads (>= 0.5)")


def run(args: argparse.Namespace, ctx: Any) -> Any:
    from automl_nb.notebook.widgets import Dashboard

    job = resolve_job(ctx, args.job)
    return Dashboard(job, refresh_seconds=args.refresh or ctx.settings.refresh_seconds)
