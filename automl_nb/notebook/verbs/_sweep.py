"""``sweep``: the sweep editor."""

from __future__ import annotations

import argparse
from typing import Any

HELP = """Show the sweep editor for the current draft: sub-spaces (models and hyperparameter
distributions), sampling algorithm and early-termination policy. "Apply to draft" merges
the YAML it shows (also .yaml in Python) into the draft, or shows why it cannot.
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace, ctx: Any) -> Any:
    from automl_nb.notebook.widgets import SweepEditor

    return SweepEditor()
