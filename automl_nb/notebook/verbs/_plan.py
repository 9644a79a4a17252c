"""``plan``: AutoMode's plan for the draft (or a job YAML), without training."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.cli._jobs_common import applied_datastores

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
    """Nothing beyond :func:`automl_nb.cli._verb_table.plan_arguments`."""


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
    from automl_nb.cli._plan import job_plan
    from automl_nb.notebook.verbs._submit import _absolute_data
    from automl_nb.notebook.verbs._submit import build_spec

    spec = _absolute_data(build_spec(args, ctx))
    with applied_datastores(args):
        text, plan = job_plan(spec, ctx.workspace)
    return PlanView(text, plan)
