"""``plan``: AutoMode's plan for the draft (or a job YAML), without training."""

from __future__ import annotations

import argparse
from typing import Any

HELP = """Show AutoMode's plan for the draft (or --file JOB.yml) without training.

With max_trials > 1 and no search_space, AutoMode reads the budget, the machine and the
data, measures a short cost probe (cached in the workspace) and plans models, input sizes,
batch sizes and epochs so the sweep fits limits.timeout_minutes.

examples:
  %automl_vision plan
  %automl_vision plan --file jobs/fridge.yml --set limits.timeout_minutes=15
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--file", help="plan this job YAML instead of the draft")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        metavar="KEY=VALUE",
        help="override a key (dotted path), e.g. limits.timeout_minutes=15; repeatable",
    )


class PlanView:
    """The plan's text, shown as preformatted text in a notebook."""

    def __init__(self, text: str, plan: Any = None) -> None:
        self.text = text
        self.plan = plan

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.text)}</pre>"


def run(args: argparse.Namespace, ctx: Any) -> PlanView:
    from automl_nb.notebook.verbs._submit import _absolute_data
    from automl_nb.notebook.verbs._submit import build_spec
    from automl_nb.runner._layout import default_workspace
    from automl_nb.sweep import is_automode
    from automl_nb.sweep import plan_job

    spec = _absolute_data(build_spec(args, ctx))
    if not is_automode(spec):
        what = "a sweep of its search_space" if spec.search_space else "a single trial"
        return PlanView(f"not AutoMode: the job runs {what} (max_trials {spec.limits.max_trials})")
    plan = plan_job(spec, workspace=ctx.workspace or default_workspace())
    return PlanView(plan.text(), plan)
