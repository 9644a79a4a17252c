"""``automl-vision predict MODEL_DIR IMAGE...``: Azure-schema predictions as JSON on stdout."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

HELP = "predict with a trained model folder; prints the Azure-schema JSON list"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Fill the ``predict`` sub-parser."""
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="a trained model folder")
    parser.add_argument("images", metavar="IMAGE", nargs="+", help="image files or URLs")
    parser.add_argument(
        "--set",
        dest="settings",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override an inference setting (v1 or v2 name), e.g. box_score_thresh=0.5",
    )
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: auto)")
    parser.add_argument("--batch-size", type=int, default=None, help="images per forward pass")
    parser.add_argument("--indent", type=int, default=None, help="pretty-print the JSON")
    parser.add_argument(
        "--with-paths",
        action="store_true",
        help="output [{'image': PATH, **prediction}, ...] instead of the bare Azure list",
    )


def _parse_settings(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    problems = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(Problem("expected KEY=VALUE", path="--set", value=repr(item)))
            continue
        out[key.strip()] = value.strip()
    if problems:
        raise ConfigError(problems)
    return out


def run(args: argparse.Namespace) -> int:
    """Load the model, predict every image and print the JSON list."""
    from automl_nb.inference import load_model

    overrides = _parse_settings(args.settings)
    model = load_model(args.model_dir, device=args.device, **overrides)
    predictions = model.predict(args.images, batch_size=args.batch_size)
    if args.with_paths:
        predictions = [{"image": path, **p} for path, p in zip(args.images, predictions)]
    json.dump(predictions, sys.stdout, indent=args.indent)
    sys.stdout.write("\n")
    return 0
