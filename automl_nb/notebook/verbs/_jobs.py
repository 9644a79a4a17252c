"""``jobs``: the jobs of the workspace."""

from __future__ import annotations

import argparse
import time
from typing import Any

from automl_nb.cli._jobs_common import add_workspace_argument
from automl_nb.notebook._html import esc
from automl_nb.notebook._html import fmt_number
from automl_nb.notebook._html import state_badge
from automl_nb.notebook._results import TableResult

HELP = """List the jobs of the workspace (newest last): status, task, best score, folder."""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--last", type=int, default=20, help="show the last N jobs (default 20)")
    add_workspace_argument(parser)


def run(args: argparse.Namespace, ctx: Any) -> TableResult:
    from automl_nb.runner import default_workspace
    from automl_nb.runner import list_jobs

    jobs = list_jobs(workspace=ctx.workspace)[-max(1, args.last) :]
    rows, html_rows = [], []
    for job in jobs:
        record = job.status_record()
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(job._meta.get("created", 0)))
        row = [
            job.id,
            job.status,
            record.get("primary_metric", ""),
            fmt_number(record.get("best_score")),
            created,
        ]
        rows.append(row)
        html_rows.append([esc(row[0]), state_badge(row[1]), *(esc(v) for v in row[2:])])
    workspace = ctx.workspace or default_workspace()
    return TableResult(
        f"jobs in {workspace}",
        ["job", "status", "primary metric", "best", "created"],
        rows,
        html_rows,
    )
