"""Arguments shared by several verbs (CLI and magics) and the plain-text tables.

An argument used by more than one verb is declared here once: ``--workspace``, ``--set``,
``--datastore`` and the ``--task``/``--pattern`` filter. The magics' parser
(:mod:`automl_nb.notebook._parser`) is an ``argparse`` parser too, so the notebook verbs call
the same functions. Nothing here imports IPython.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from collections.abc import Iterator
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def add_workspace_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--workspace DIR`` (default ``$AUTOML_NB_WORKSPACE`` or ``./automl_runs``)."""
    parser.add_argument(
        "--workspace",
        default=None,
        help="workspace folder (default: $AUTOML_NB_WORKSPACE or ./automl_runs)",
    )


def add_set_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--set KEY=VALUE`` (repeatable), read back by :func:`load_job_with_overrides`."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a job key, e.g. training_parameters.learning_rate=0.01 (repeatable)",
    )


def load_job_with_overrides(args: argparse.Namespace) -> Any:
    """The job spec of ``args.job`` with the ``--set`` overrides applied."""
    from automl_nb.config import load_job
    from automl_nb.config import parse_set_option

    overrides = dict(parse_set_option(item) for item in args.overrides)
    return load_job(args.job, overrides=overrides or None)


# Short task names accepted wherever a task is named on a command line or a magic line.
TASK_ALIASES: dict[str, str] = {
    "classification": "image_classification",
    "multiclass": "image_classification",
    "multilabel": "image_classification_multilabel",
    "classification_multilabel": "image_classification_multilabel",
    "detection": "image_object_detection",
    "object_detection": "image_object_detection",
    "segmentation": "image_instance_segmentation",
    "instance_segmentation": "image_instance_segmentation",
}


def task_name(text: str) -> str:
    """The Azure task name of ``text`` (an Azure name or a short form such as ``detection``).

    Raises:
        argparse.ArgumentTypeError: Unknown task, with the closest names (argparse shows it
            as a usage error, in the CLI and in the magics alike).
    """
    from automl_nb.registry import did_you_mean
    from automl_nb.tasks import TASK_NAMES

    name = str(text).strip().lower().replace("-", "_")
    name = TASK_ALIASES.get(name, name)
    if name in TASK_NAMES:
        return name
    hint = did_you_mean(name, [*TASK_NAMES, *TASK_ALIASES], n=2)
    raise argparse.ArgumentTypeError(
        f"unknown task {text!r}{hint}\ntasks: {', '.join(TASK_NAMES)}"
    )


def add_task_filter_arguments(parser: argparse.ArgumentParser, *, task_help: str) -> None:
    """Add ``--task T`` (Azure or short name) and ``--pattern GLOB`` (the ``models`` verb)."""
    parser.add_argument("--task", type=task_name, metavar="TASK", help=task_help)
    parser.add_argument(
        "--pattern",
        help="fnmatch pattern on the names, such as 'resnet*' or '*rcnn*'; also lists "
        "matching timm classifiers",
    )


def add_datastore_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--datastore NAME=FOLDER`` (repeatable), applied by :func:`apply_datastores`."""
    parser.add_argument(
        "--datastore",
        action="append",
        default=[],
        metavar="NAME=FOLDER",
        help="map an Azure datastore to a local folder for azureml:// paths (repeatable; "
        "adds to AUTOML_NB_DATASTORES)",
    )


def datastore_arguments(args: argparse.Namespace) -> dict[str, str]:
    """The datastore mapping of ``AUTOML_NB_DATASTORES`` plus the ``--datastore`` items.

    Raises:
        DataError: An item that is not ``NAME=FOLDER``.
    """
    from automl_nb.data import datastore_mapping
    from automl_nb.data import parse_datastore_mapping

    datastores = datastore_mapping()
    for item in getattr(args, "datastore", None) or []:
        datastores.update(datastore_mapping(parse_datastore_mapping(item, origin="--datastore")))
    return datastores


@contextlib.contextmanager
def applied_datastores(args: argparse.Namespace) -> Iterator[dict[str, str]]:
    """Set ``AUTOML_NB_DATASTORES`` to the merged mapping while a verb runs.

    Controllers and trial kernels started by the verb inherit the environment, so they resolve
    ``azureml://`` paths the same way; the previous value is restored afterwards.

    Raises:
        DataError: A ``--datastore`` item that is not ``NAME=FOLDER``.
    """
    from automl_nb.data import DATASTORES_ENV

    items = getattr(args, "datastore", None) or []
    if not items:
        yield datastore_arguments(args)
        return
    datastores = datastore_arguments(args)
    before = os.environ.get(DATASTORES_ENV)
    os.environ[DATASTORES_ENV] = json.dumps(datastores)
    try:
        yield datastores
    finally:
        if before is None:
            os.environ.pop(DATASTORES_ENV, None)
        else:
            os.environ[DATASTORES_ENV] = before


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A left-aligned plain-text table."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_score(value: Any) -> str:
    """A metric value with 4 decimals, or ``-``."""
    return f"{value:.4f}" if isinstance(value, (int, float)) else "-"


def format_elapsed(started: float | None, ended: float | None) -> str:
    """``1m05s``-style duration, counting to now for running things."""
    if not started:
        return "-"
    seconds = int((ended or time.time()) - started)
    return f"{seconds // 60}m{seconds % 60:02d}s"


def find_job(ref: str | None, workspace: Any = None, last_job: Any = None) -> Any:
    """The job named ``ref`` (id, unique id prefix or folder), else ``last_job`` (the job a
    notebook submitted last), else the newest job of the workspace.

    Raises:
        JobError: ``ref`` names no job (or several), or the workspace has no job.
    """
    from automl_nb.errors import JobError
    from automl_nb.runner import get_job
    from automl_nb.runner import list_jobs

    if ref:
        return get_job(ref, workspace=workspace)
    if last_job is not None:
        return last_job
    jobs = list_jobs(workspace=workspace)
    if not jobs:
        raise JobError("no job yet in this workspace: submit one, or name a JOB")
    return jobs[-1]


def job_with_best_model(workspace: Any = None, last_job: Any = None) -> Any:
    """``last_job`` when it has a best model, else the newest job of the workspace that has
    one, else None (a canceled or failed job without a model is passed over)."""
    from automl_nb.runner import list_jobs

    if last_job is not None and last_job.best_model_dir is not None:
        return last_job
    for job in reversed(list_jobs(workspace=workspace)):
        if job.best_model_dir is not None:
            return job
    return None


_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def _is_model_folder(path: str) -> bool:
    """A folder, or a missing path that cannot be an image (so the loader names it)."""
    if os.path.isdir(path):
        return True
    image_like = "://" in path or path.lower().endswith(_IMAGE_SUFFIXES) or "*" in path
    return not os.path.exists(path) and not image_like


def resolve_model_source(args: argparse.Namespace, ctx: Any) -> Path:
    """The model folder a model verb uses: ``--model``, else ``--job``'s best model, else a
    model folder given as first positional (taken off ``args.images``), else the best model
    of the newest job that has one.

    Raises:
        JobError: The job named has no best model, or no job has one.
    """
    from automl_nb.errors import JobError

    if getattr(args, "model", None):
        return Path(args.model)
    if getattr(args, "model_dir", None):
        return Path(args.model_dir)
    images = getattr(args, "images", None)
    if not args.job and images and len(images) > 1 and _is_model_folder(images[0]):
        args.images = images[1:]
        return Path(images[0])
    if args.job:
        job = find_job(args.job, ctx.workspace)
        if job.best_model_dir is None:
            raise JobError(f"job {job.id} has no best model yet (status: {job.status})")
        return job.best_model_dir
    job = job_with_best_model(ctx.workspace, ctx.last_job)
    if job is None:
        last = ctx.last_job or find_job(None, ctx.workspace)
        raise JobError(
            f"no job of the workspace has a best model yet (newest: {last.id}, "
            f"{last.status}); name one with --job or a folder with --model"
        )
    return job.best_model_dir


def split_trial_target(target: str | None) -> tuple[str | None, int | None]:
    """``"JOB/3"`` -> ``("JOB", 3)``; ``"/3"`` -> ``(None, 3)``; ``"JOB"`` -> ``("JOB", None)``.

    Raises:
        ConfigError: A trial part that is not a number.
    """
    from automl_nb.errors import ConfigError
    from automl_nb.errors import Problem

    if not target or "/" not in target or target.endswith("/") and target.count("/") > 1:
        return target or None, None
    head, _, tail = target.rpartition("/")
    if tail.isdigit():
        return head or None, int(tail)
    if not head:
        raise ConfigError(Problem("expected JOB, JOB/TRIAL or /TRIAL", value=repr(target)))
    return target, None  # a job folder path


def parse_key_values(items: list[str] | None, *, option: str = "--set") -> dict[str, Any]:
    """``["n_steps=10", "xrai_fast=false"]`` -> ``{"n_steps": 10, "xrai_fast": False}``
    (values read as YAML scalars; text that is not YAML stays text).

    Raises:
        ConfigError: An item without ``=``, named with ``option``.
    """
    import yaml

    from automl_nb.errors import ConfigError
    from automl_nb.errors import Problem

    out: dict[str, Any] = {}
    problems = []
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(Problem("expected KEY=VALUE", path=option, value=repr(item)))
            continue
        try:
            out[key.strip()] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            out[key.strip()] = value
    if problems:
        raise ConfigError(problems)
    return out
