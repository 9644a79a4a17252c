"""``automl-vision status [JOB] [--json]``: jobs of the workspace, or one job in detail."""

from __future__ import annotations

import argparse
import json
from typing import Any

from automl_nb.cli._jobs_common import format_elapsed
from automl_nb.cli._jobs_common import format_score
from automl_nb.cli._jobs_common import format_table
from automl_nb.cli._verb_table import CommandContext

HELP = "show the jobs of the workspace, or one job's status with live per-epoch values"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json`` (the rest is :func:`automl_nb.cli._verb_table.status_arguments`)."""
    parser.add_argument("--json", action="store_true", help="print JSON")


def job_summary(job: Any) -> dict:
    """A JSON-safe summary of a job and its trials."""
    from automl_nb.runner._status import describe_progress
    from automl_nb.runner._status import read_progress

    trials = job.trials()
    record = job.status_record()
    counts: dict[str, int] = {}
    for t in trials:
        counts[t.state] = counts.get(t.state, 0) + 1
    best = job.best_trial()
    return {
        "job_id": job.id,
        "status": job.status,
        "folder": str(job.dir),
        "primary_metric": record.get("primary_metric"),
        "trials": counts,
        "best_trial": best.number if best else None,
        "best_score": best.best_score if best else None,
        "best_model_dir": str(job.best_model_dir) if job.best_model_dir else None,
        "running": [
            {
                "trial": t.number,
                "epoch": t.epoch,
                "last": t.metrics[-1] if t.metrics else None,
                "progress": read_progress(t.folder),
                "progress_text": describe_progress(t.state, read_progress(t.folder)),
            }
            for t in trials
            if t.state == "running"
        ],
        "errors": {t.number: t.error for t in trials if t.error},
        "notes": list(record.get("notes") or []),
    }


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Print the status."""
    from automl_nb.runner import get_job
    from automl_nb.runner import list_jobs

    if args.job is None:
        jobs = list_jobs(workspace=ctx.workspace)
        summaries = [job_summary(j) for j in jobs]
        if args.json:
            print(json.dumps(summaries, default=str))
            return 0
        rows = [
            (
                s["job_id"],
                s["status"],
                sum(s["trials"].values()),
                s["trials"].get("running", 0),
                format_score(s["best_score"]),
            )
            for s in summaries
        ]
        print(
            format_table(["JOB", "STATUS", "TRIALS", "RUNNING", "BEST"], rows)
            if rows
            else "no jobs"
        )
        return 0
    job = get_job(args.job, workspace=ctx.workspace)
    summary = job_summary(job)
    if args.json:
        print(json.dumps(summary, default=str))
        return 0
    print(f"job {summary['job_id']}: {summary['status']}  ({summary['folder']})")
    metric = summary["primary_metric"] or "score"
    print(f"best {metric}: {format_score(summary['best_score'])} (trial {summary['best_trial']})")
    trial_rows: list[tuple[Any, ...]] = []
    for t in job.trials():
        last = t.metrics[-1] if t.metrics else {}
        trial_rows.append(
            (
                t.number,
                t.state,
                t.epoch if t.epoch is not None else "-",
                format_score(last.get(metric)),
                format_score(t.best_score),
                format_elapsed(t.started, t.ended),
            )
        )
    if trial_rows:
        print(
            format_table(
                ["TRIAL", "STATE", "EPOCH", metric.upper(), "BEST", "ELAPSED"], trial_rows
            )
        )
    for running in summary["running"]:
        print(f"trial {running['trial']}: {running['progress_text']}")
    for number, error in summary["errors"].items():
        print(f"trial {number}: {error}")
    for note in summary["notes"]:
        print(f"note: {note}")
    if summary["status"] == "stopped":
        print(f"its controller is gone; `automl-vision resume {summary['job_id']}` continues it")
    return 0
