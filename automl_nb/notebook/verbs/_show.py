"""``show``: the current draft as YAML, with what is still missing."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.notebook._results import DraftView

HELP = """Show the current draft as job YAML (v2 names) and whether it is complete.

With --save FILE, also write the YAML there (for `automl-vision run FILE`).
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--save", metavar="FILE", help="also write the YAML to FILE")


def run(args: argparse.Namespace, ctx: Any) -> DraftView:
    view = DraftView(ctx.state.draft)
    if args.save:
        with open(args.save, "w", encoding="utf-8") as fh:
            fh.write(view.yaml)
        view.note = f"saved to {args.save}"
    return view
