"""``automl-vision plan JOB.yml``: show AutoMode's plan for a job without training."""

from __future__ import annotations

import argparse
import json

from automl_nb.cli._jobs_common import add_datastore_argument
from automl_nb.cli._jobs_common import add_set_argument
from automl_nb.cli._jobs_common import add_workspace_argument
from automl_nb.cli._jobs_common import load_job_with_overrides

HELP = "show AutoMode's plan for a job (models, sizes, epochs, expected time) without training"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``plan``."""
    add_datastore_argument(parser)
    parser.add_argument("job", help="job YAML file")
    add_workspace_argument(parser)
    add_set_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def plan_text(spec, workspace) -> tuple[str, dict | None]:
    """The plan of ``spec`` as text, and as a dict (``None`` when the job is not AutoMode)."""
    from automl_nb.runner._layout import default_workspace
    from automl_nb.sweep import is_automode
    from automl_nb.sweep import plan_job

    if not is_automode(spec):
        trials = int(spec.limits.max_trials)
        what = "a sweep of its search_space" if spec.search_space else "a single trial"
        return f"not AutoMode: the job runs {what} (max_trials {trials})", None
    plan = plan_job(spec, workspace=workspace or default_workspace())
    return plan.text(), plan.to_dict()


def run(args: argparse.Namespace) -> int:
    """Print the plan (or say the job is not AutoMode)."""
    spec = load_job_with_overrides(args)
    text, data = plan_text(spec, args.workspace)
    if args.json:
        print(json.dumps(data if data is not None else {"automode": False, "text": text}))
    else:
        print(text)
    return 0
