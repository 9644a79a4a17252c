"""``automl-vision submit JOB.yml``: start a job in the background and print its id."""

from __future__ import annotations

import argparse

from automl_nb.cli._jobs_common import load_job_with_overrides
from automl_nb.cli._verb_table import CommandContext
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

HELP = "start a job with a detached controller and print its id"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing beyond :func:`automl_nb.cli._verb_table.submit_arguments`."""


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Submit the job; print the job id and folder (with ``--wait``, then its final state)."""
    from automl_nb.runner import submit

    args.job = args.job or args.file
    if not args.job:
        raise ConfigError(Problem("give the job YAML file to submit", path="JOB"))
    spec = load_job_with_overrides(args)
    job = submit(spec, workspace=ctx.workspace, storage=args.storage)
    print(job.id)
    print(f"job folder: {job.dir}")
    if job.plan() is not None:
        print(job.plan())
    if args.wait:
        try:
            print(f"{job.id}: {job.wait(args.timeout)}")
        except TimeoutError:
            print(f"{job.id}: still {job.status} after {args.timeout} s; it keeps running")
            return 1
    return 0
