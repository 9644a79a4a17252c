"""``predict``: predict images with a job's best model, drawn inline."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.notebook._jobs import resolve_model_dir
from automl_nb.notebook._model_views import PredictView
from automl_nb.notebook._model_views import expand_images
from automl_nb.notebook._parser import parse_key_values

HELP = """Predict IMAGES (paths or globs) with the best model of a job (default: the last
submitted) or a model folder, in the Azure output schema, each drawn on its image.

examples:
  %automl_vision predict data/test/*.jpg
  %automl_vision predict img.png --model runs/default/fridge-.../best_model
  %automl_vision predict data/test/*.jpg --set box_score_thresh=0.5
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", help="image paths or glob patterns")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--job", help="use this job's best model")
    source.add_argument("--model", help="use this model folder")
    parser.add_argument("--threshold", type=float, help="hide boxes scoring below this")
    parser.add_argument("--max", type=int, default=12, help="draw at most N images (12)")
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        metavar="KEY=VALUE",
        help="an inference setting, e.g. box_score_thresh=0.5; repeatable",
    )


def run(args: argparse.Namespace, ctx: Any) -> PredictView:
    from automl_nb.inference import draw_predictions
    from automl_nb.inference import load_model
    from automl_nb.notebook._plots import to_png

    images = expand_images(args.images)
    model = load_model(resolve_model_dir(ctx, args.job, args.model), device="cpu")
    predictions = model.predict(images, **parse_key_values(args.settings))
    pngs = []
    for image, prediction in zip(images[: max(0, args.max)], predictions):
        figure = draw_predictions(
            image, prediction, labels=model.labels, score_threshold=args.threshold
        )
        pngs.append(to_png(figure))
    return PredictView(images, predictions, pngs)
