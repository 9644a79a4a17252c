"""``builder``: a form over the current draft."""

from __future__ import annotations

import argparse
from typing import Any

HELP = """Show a form for the current draft: task, data paths, target column, validation
size, limits and the main training parameters. Each edit is validated and merged into the
draft at once; an invalid value is shown in red and the draft keeps its previous value.
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace, ctx: Any) -> Any:
    from automl_nb.notebook.widgets import JobBuilder

    return JobBuilder()
