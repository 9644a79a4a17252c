"""``automl-vision submit JOB.yml``: start a job in the background and print its id."""

from __future__ import annotations

import argparse

from automl_nb.cli._jobs_common import add_datastore_argument
from automl_nb.cli._jobs_common import add_set_argument
from automl_nb.cli._jobs_common import add_workspace_argument
from automl_nb.cli._jobs_common import load_job_with_overrides

HELP = "start a job with a detached controller and print its id"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``submit``."""
    add_datastore_argument(parser)
    parser.add_argument("job", help="job YAML file")
    add_workspace_argument(parser)
    add_set_argument(parser)
    parser.add_argument("--storage", default=None, help="Optuna storage URL shared with workers")


def run(args: argparse.Namespace) -> int:
    """Submit the job; print the job id and folder."""
    from automl_nb.runner import submit

    spec = load_job_with_overrides(args)
    job = submit(spec, workspace=args.workspace, storage=args.storage)
    print(job.id)
    print(f"job folder: {job.dir}")
    if job.plan() is not None:
        print(job.plan())
    return 0
