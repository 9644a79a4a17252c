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
