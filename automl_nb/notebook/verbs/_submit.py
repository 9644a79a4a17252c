"""``submit``: start the draft (or a job YAML) in the background."""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Any

from automl_nb.cli._jobs_common import applied_datastores
from automl_nb.notebook._job_views import JobView
from automl_nb.notebook._jobs import take_snapshot
from automl_nb.notebook._results import Message
from automl_nb.notebook._state import remember_job

HELP = """Submit the current draft (or a JOB.yml) and return at once.

The job runs in a background controller that outlives the notebook kernel; a live
dashboard shows it (set %config AutoMLVision.dashboard_on_submit = False to skip it).
With --wait, block until the job ends and show its final state.

examples:
  %automl_vision submit
  %automl_vision submit jobs/fridge.yml --set training_parameters.number_of_epochs=1
  %automl_vision submit --wait
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--no-dashboard`` (the rest is :func:`automl_nb.cli._verb_table.submit_arguments`)."""
    parser.add_argument("--no-dashboard", action="store_true", help="do not show the dashboard")


def _absolute_data(spec: Any) -> Any:
    # A draft has no YAML file, so its relative data paths are relative to the notebook's
    # folder; the job folder lives elsewhere, so make them absolute now.
    changes = {}
    for name in ("training_data", "validation_data"):
        data = getattr(spec, name)
        if data is not None and "://" not in data.path and not data.path.startswith("azureml:"):
            changes[name] = dataclasses.replace(
                data, path=os.path.abspath(spec.resolve_path(data.path))
            )
    return dataclasses.replace(spec, **changes) if changes else spec


def build_spec(args: argparse.Namespace, ctx: Any) -> Any:
    """The spec to submit: the YAML file or the draft, with the ``--set`` overrides."""
    from automl_nb.config import load_job
    from automl_nb.config import parse_set_option

    overrides = dict(parse_set_option(o) for o in args.overrides or [])
    path = args.job or args.file
    if path:
        return load_job(path, overrides=overrides or None)
    draft = ctx.state.draft
    if overrides:
        draft = draft.copy()
        for key, value in overrides.items():
            fragment: Any = value
            for part in reversed(key.split(".")):
                fragment = {part: fragment}
            draft.merge(fragment, source="--set")
    return draft.spec


def run(args: argparse.Namespace, ctx: Any) -> Any:
    from automl_nb.runner import submit

    spec = _absolute_data(build_spec(args, ctx))
    storage = args.storage or ctx.settings.storage or None
    with applied_datastores(args):
        job = submit(spec, workspace=ctx.workspace, storage=storage)
    remember_job(job)
    show_dashboard = ctx.in_kernel and ctx.settings.dashboard_on_submit and not args.no_dashboard
    dashboard = None
    if show_dashboard:
        from automl_nb.notebook.widgets import Dashboard

        dashboard = Dashboard(job, refresh_seconds=ctx.settings.refresh_seconds)
        if not args.wait:
            return dashboard
        from IPython.display import display

        display(dashboard)
    if not args.wait:
        return JobView(job, take_snapshot(job), note=f"submitted {job.id}")
    note = f"job {job.id} finished"
    try:
        job.wait(args.timeout)
    except TimeoutError:
        note = f"job {job.id} still {job.status} after {args.timeout} s; it keeps running"
    except KeyboardInterrupt:
        note = f"stopped waiting; job {job.id} keeps running (%automl_vision cancel stops it)"
    if dashboard is not None:
        # The dashboard above already shows the job's final state; only say how it ended.
        dashboard.refresh()
        return Message(note)
    return JobView(job, take_snapshot(job), note=note)
