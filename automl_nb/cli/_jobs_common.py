"""Shared bits of the job-control verbs: the --workspace option and plain-text tables."""

from __future__ import annotations

import argparse
import time
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
