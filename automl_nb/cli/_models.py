"""``automl-vision models [--task T] [--pattern P] [--json]``: the model zoo and its defaults."""

from __future__ import annotations

import argparse
import json
from typing import Any

from automl_nb.cli._verb_table import CommandContext

HELP = "list the models (Azure names first) with their default hyperparameters"

_COLUMNS = ("model_name", "task", "batch", "lr", "input", "notes")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--json`` (the rest is :func:`automl_nb.cli._verb_table.models_arguments`)."""
    parser.add_argument("--json", action="store_true", help="print JSON")


def model_rows(task: str | None = None, pattern: str | None = None) -> list[dict[str, Any]]:
    """One JSON-safe row per (model, task): defaults, normalisation, weights, availability."""
    from automl_nb.models import default_model
    from automl_nb.models import get_model_cfg
    from automl_nb.models import list_models
    from automl_nb.tasks import Task

    tasks = [Task(task)] if task else list(Task)
    rows = []
    for t in tasks:
        for name in list_models(t, pattern, include_unavailable=True):
            cfg = get_model_cfg(name, t)
            rows.append(
                {
                    "model_name": name,
                    "task": t.value,
                    "default": name == default_model(t),
                    "available": cfg.available,
                    "family": cfg.family,
                    "arch": cfg.arch,
                    "backbone": cfg.backbone,
                    "input_size": list(cfg.input_size) if cfg.input_size else None,
                    "mean": list(cfg.mean) if cfg.mean else None,
                    "std": list(cfg.std) if cfg.std else None,
                    "weights": cfg.weights,
                    "defaults": dict(cfg.defaults),
                    "layers_to_freeze_max": len(cfg.layer_groups),
                    "description": cfg.description,
                }
            )
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    lines = []
    for r in rows:
        d = r["defaults"]
        if "min_size" in d:
            size = f"{d['min_size']}-{d['max_size']}"
        elif "training_crop_size" in d:
            size = str(d["training_crop_size"])
        else:
            size = str(d.get("image_size", ""))
        notes = []
        if r["default"]:
            notes.append("default")
        if not r["available"]:
            notes.append("not available yet")
        notes.append(r["description"])
        lines.append(
            (
                r["model_name"],
                r["task"],
                str(d.get("training_batch_size", "")),
                str(d.get("learning_rate", "")),
                size,
                "; ".join(notes),
            )
        )
    widths = [max(len(c), *(len(line[i]) for line in lines)) for i, c in enumerate(_COLUMNS)]
    widths[-1] = 0  # the last column is not padded
    out = ["  ".join(c.ljust(w) for c, w in zip(_COLUMNS, widths)).rstrip()]
    out += ["  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() for line in lines]
    return "\n".join(out)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """List the models; exit status 1 when nothing matches."""
    rows = model_rows(args.task, args.pattern)
    if args.json:
        print(json.dumps(rows, indent=2))
    elif rows:
        print(_table(rows))
    return 0 if rows else 1
