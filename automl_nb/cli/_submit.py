"""``automl-vision submit JOB.yml``: start a job in the background and print its id."""

from __future__ import annotations

import argparse

from automl_nb.cli._jobs_common import add_workspace_argument

HELP = "start a job with a detached controller and print its id"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``submit``."""
    parser.add_argument("job", help="job YAML file")
    add_workspace_argument(parser)
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a job key, e.g. training_parameters.learning_rate=0.01",
    )
    parser.add_argument("--storage", default=None, help="Optuna storage URL shared with workers")


def run(args: argparse.Namespace) -> int:
    """Submit the job; print the job id and folder."""
    from automl_nb.config import load_job
    from automl_nb.config import parse_set_option
    from automl_nb.runner import submit

    overrides = dict(parse_set_option(item) for item in args.overrides)
    spec = load_job(args.job, overrides=overrides or None)
    job = submit(spec, workspace=args.workspace, storage=args.storage)
    print(job.id)
    print(f"job folder: {job.dir}")
    return 0
