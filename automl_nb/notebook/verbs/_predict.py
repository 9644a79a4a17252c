"""``predict``: predict images with a job's best model, drawn inline."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.cli._jobs_common import parse_key_values
from automl_nb.cli._jobs_common import resolve_model_source
from automl_nb.notebook._model_views import PredictView
from automl_nb.notebook._model_views import expand_images

HELP = """Predict IMAGES (paths or globs) with the best model of a job (default: the last
submitted, or the newest job with a best model) or a model folder, in the Azure output
schema, each drawn on its image.

examples:
  %automl_vision predict data/test/*.jpg
  %automl_vision predict img.png --model runs/default/fridge-.../best_model
  %automl_vision predict data/test/*.jpg --set box_score_thresh=0.5
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """How predictions are drawn (the rest is :func:`automl_nb.cli._verb_table.predict_arguments`)."""
    parser.add_argument("--threshold", type=float, help="hide boxes scoring below this")
    parser.add_argument("--max", type=int, default=12, help="draw at most N images (12)")


def run(args: argparse.Namespace, ctx: Any) -> PredictView:
    from automl_nb.inference import draw_predictions
    from automl_nb.inference import load_model
    from automl_nb.notebook._plots import to_png

    model_dir = resolve_model_source(args, ctx)
    images = expand_images(args.images)
    model = load_model(model_dir, device=args.device or "cpu", **parse_key_values(args.settings))
    predictions = model.predict(images, batch_size=args.batch_size)
    pngs = []
    for image, prediction in zip(images[: max(0, args.max)], predictions):
        figure = draw_predictions(
            image, prediction, labels=model.labels, score_threshold=args.threshold
        )
        pngs.append(to_png(figure))
    return PredictView(images, predictions, pngs)
