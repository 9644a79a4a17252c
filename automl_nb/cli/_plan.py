"""``automl-vision plan JOB.yml``: show AutoMode's plan for a job without training."""

from __future__ import annotations

import argparse
import json
from typing import Any

from automl_nb.cli._jobs_common import load_job_with_overrides
from automl_nb.cli._verb_table import CommandContext
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

HELP = "show AutoMode's plan for a job (models, sizes, epochs, expected time) without training"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json`` (the rest is :func:`automl_nb.cli._verb_table.plan_arguments`)."""
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def job_plan(spec: Any, workspace: Any) -> tuple[str, Any]:
    """The plan of ``spec`` as text, and the :class:`~automl_nb.sweep.Plan` (``None`` when
    the job is not AutoMode)."""
    from automl_nb.runner._layout import default_workspace
    from automl_nb.sweep import is_automode
    from automl_nb.sweep import plan_job

    if not is_automode(spec):
        trials = int(spec.limits.max_trials)
        what = "a sweep of its search_space" if spec.search_space else "a single trial"
        return f"not AutoMode: the job runs {what} (max_trials {trials})", None
    plan = plan_job(spec, workspace=workspace or default_workspace())
    return plan.text(), plan


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Print the plan (or say the job is not AutoMode)."""
    args.job = args.job or args.file
    if not args.job:
        raise ConfigError(Problem("give the job YAML file to plan", path="JOB"))
    spec = load_job_with_overrides(args)
    text, plan = job_plan(spec, ctx.workspace)
    if args.json:
        print(
            json.dumps(plan.to_dict() if plan is not None else {"automode": False, "text": text})
        )
    else:
        print(text)
    return 0
