"""``explain``: explain a classifier's predictions (the 2x2 Azure visualization)."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.notebook._jobs import resolve_model_dir
from automl_nb.notebook._model_views import ExplainView
from automl_nb.notebook._model_views import expand_images
from automl_nb.notebook._parser import parse_key_values

HELP = """Explain IMAGES with a classification model: for each algorithm, the 2x2 Azure
visualization (image, attribution map, overlay, the top regions), side by side.

Algorithms: xrai, integrated_gradients, guided_backprop, guided_gradcam (comma-separate
several to compare them). Parameters: n_steps, xrai_fast, approximation_method,
internal_batch_size. --viewer opens the interactive explanation viewer instead.

example:
  %automl_vision explain data/test/1.jpg --algorithm xrai,guided_gradcam --param n_steps=20
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", help="image paths or glob patterns")
    parser.add_argument("--algorithm", default="xrai", help="algorithm(s), comma-separated")
    parser.add_argument(
        "--param", dest="params", action="append", metavar="KEY=VALUE", help="repeatable"
    )
    parser.add_argument("--label", help="explain this label instead of the predicted one")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--job", help="use this job's best model")
    source.add_argument("--model", help="use this model folder")
    parser.add_argument("--viewer", action="store_true", help="open the explanation viewer")


def run(args: argparse.Namespace, ctx: Any) -> Any:
    images = expand_images(args.images)
    algorithms = [a.strip() for a in args.algorithm.split(",") if a.strip()]
    params = parse_key_values(args.params)
    model_dir = resolve_model_dir(ctx, args.job, args.model)
    if args.viewer:
        from automl_nb.notebook.widgets import ExplanationViewer

        return ExplanationViewer(model_dir, images, algorithms=algorithms, params=params)
    from automl_nb.explain import as_explainable
    from automl_nb.explain import explain_image

    model = as_explainable(model_dir, device="cpu")
    labels = [args.label] if args.label else None
    results, flat = {}, set()
    for image in images:
        for algorithm in algorithms:
            explained = explain_image(
                model, image, algorithm=algorithm, labels_to_explain=labels, **params
            )
            results[(image, algorithm)] = explained.to_dict()
            if any(not e.attributions.any() for e in explained.explanations):
                flat.add((image, algorithm))
    return ExplainView(images, algorithms, results, flat=flat)
