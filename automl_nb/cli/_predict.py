"""``automl-vision predict [MODEL_DIR] IMAGE...``: Azure-schema predictions as JSON on stdout."""

from __future__ import annotations

import argparse
import json
import sys

from automl_nb.cli._jobs_common import parse_key_values
from automl_nb.cli._jobs_common import resolve_model_source
from automl_nb.cli._verb_table import CommandContext

HELP = "predict with a trained model folder; prints the Azure-schema JSON list"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """How the JSON is printed (the rest is :func:`automl_nb.cli._verb_table.predict_arguments`)."""
    parser.add_argument("--indent", type=int, default=None, help="pretty-print the JSON")
    parser.add_argument(
        "--with-paths",
        action="store_true",
        help="output [{'image': PATH, **prediction}, ...] instead of the bare Azure list",
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Load the model, predict every image and print the JSON list."""
    from automl_nb.inference import load_model

    model_dir = resolve_model_source(args, ctx)
    model = load_model(model_dir, device=args.device, **parse_key_values(args.settings))
    predictions = model.predict(args.images, batch_size=args.batch_size)
    if args.with_paths:
        predictions = [{"image": path, **p} for path, p in zip(args.images, predictions)]
    json.dump(predictions, sys.stdout, indent=args.indent)
    sys.stdout.write("\n")
    return 0
