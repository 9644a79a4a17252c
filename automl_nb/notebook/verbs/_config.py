"""``config``: merge a YAML fragment (the cell) into the current draft."""

from __future__ import annotations

import argparse
import os
from typing import Any

from automl_nb.notebook._results import DraftView

HELP = """Merge the cell's YAML (Azure job keys, v1 or v2 names) into the current draft.

The fragment is validated at once: an unknown key or a bad value is reported with its
line in the cell and the draft stays as it was. Mappings merge, lists and values replace;
`key: null` under training_parameters removes a setting.

example:
  %%automl_vision config
  training_data: {path: data/train.jsonl, type: jsonl}
  target_column_name: label
  training_parameters: {model_name: resnet18, number_of_epochs: 5}
"""
CELL = "optional"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--file", help="merge this YAML file (instead of, or before, the cell)")


def run(args: argparse.Namespace, ctx: Any) -> DraftView:
    from IPython.core.error import UsageError

    if ctx.cell is None and not args.file:
        raise UsageError(
            "config needs YAML: start the cell with %%automl_vision config, or give --file"
        )
    # Merge into a copy so a file followed by a bad cell leaves the draft untouched.
    draft = ctx.state.draft.copy()
    merged = []
    if args.file:
        with open(args.file, encoding="utf-8") as fh:
            draft.merge(fh.read(), source=os.fspath(args.file))
        merged.append(args.file)
    if ctx.cell is not None:
        # A leading newline makes the YAML's line numbers those of the notebook cell, whose
        # first line is the magic itself.
        draft.merge("\n" + ctx.cell, source="cell")
        merged.append("the cell")
    changed = changed_keys(ctx.state.draft.to_dict(), draft.to_dict())
    ctx.state.draft = draft
    what = ", ".join(changed) if changed else "nothing new"
    return DraftView(draft, note=f"merged {' and '.join(merged)}: {what}", full=False)


def changed_keys(before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[str]:
    """The dotted keys whose value differs between two drafts (added, changed or removed).

    Example:
        >>> changed_keys({"a": 1, "t": {"lr": 0.1, "m": "x"}}, {"a": 1, "t": {"lr": 0.2}})
        ['t.lr', 't.m']
    """
    out = []
    for key in sorted(set(before) | set(after), key=str):
        old, new = before.get(key), after.get(key)
        mappings = isinstance(old, (dict, type(None))) and isinstance(new, (dict, type(None)))
        if mappings and (isinstance(old, dict) or isinstance(new, dict)):
            out += changed_keys(old or {}, new or {}, f"{prefix}{key}.")
            continue
        if old != new:
            out.append(f"{prefix}{key}")
    return out
