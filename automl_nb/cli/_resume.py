"""``automl-vision resume JOB``: continue a stopped or crashed job, or extend a sweep."""

from __future__ import annotations

import argparse

from automl_nb.cli._jobs_common import add_workspace_argument

HELP = "continue a stopped job, or extend a sweep (--max-trials, --timeout-minutes)"


def add_resume_limits(parser: argparse.ArgumentParser) -> None:
    """Add ``--max-trials N`` and ``--timeout-minutes M`` (shared with ``%automl_vision``)."""
    parser.add_argument(
        "--max-trials",
        type=int,
        default=None,
        metavar="N",
        help="extend the sweep to N trials in all (earlier trials are kept and count)",
    )
    parser.add_argument(
        "--timeout-minutes",
        type=int,
        default=None,
        metavar="M",
        help="let the resumed sweep run M minutes from now (with --max-trials alone: the "
        "job's timeout_minutes again, from now)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``resume``."""
    parser.add_argument("job", help="job id")
    add_workspace_argument(parser)
    add_resume_limits(parser)
    parser.add_argument("--wait", action="store_true", help="wait until the job ends")


def run(args: argparse.Namespace) -> int:
    """Start a new controller for the job."""
    from automl_nb.runner import get_job

    job = get_job(args.job, workspace=args.workspace).resume(
        max_trials=args.max_trials, timeout_minutes=args.timeout_minutes
    )
    extended = [
        f"{name} {value}"
        for name, value in (
            ("max_trials", args.max_trials),
            ("timeout_minutes", args.timeout_minutes),
        )
        if value is not None
    ]
    print(f"{job.id}: resumed" + (f" ({', '.join(extended)})" if extended else ""))
    if args.wait:
        print(f"{job.id}: {job.wait()}")
    return 0
