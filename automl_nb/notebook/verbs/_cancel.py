"""``cancel``: stop a job or one of its trials."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

from automl_nb.notebook._jobs import resolve_job
from automl_nb.notebook._results import Message

HELP = """Cancel a job, or one trial of it: JOB, JOB/TRIAL, or /TRIAL for the last job.

The default JOB is the last submitted. Finished trials and the best model are kept.
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", help="JOB, JOB/TRIAL or /TRIAL")


def run(args: argparse.Namespace, ctx: Any) -> Message:
    ref, trial = args.target, None
    if ref and "/" in ref and not ref.endswith("/"):
        head, _, tail = ref.rpartition("/")
        if tail.isdigit():
            ref, trial = head or None, int(tail)
        elif not head:
            raise UsageError(f"expected JOB, JOB/TRIAL or /TRIAL, got {args.target!r}")
    job = resolve_job(ctx, ref)
    job.cancel(trial)
    if trial is not None:
        return Message(f"asked trial {trial} of job {job.id} to stop")
    return Message(f"asked job {job.id} to stop (status: {job.status})")
