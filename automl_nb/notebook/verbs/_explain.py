"""``explain``: explain a classifier's predictions (the 2x2 Azure visualization)."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.cli._jobs_common import resolve_model_source
from automl_nb.cli._verb_table import explain_settings
from automl_nb.notebook._model_views import ExplainView
from automl_nb.notebook._model_views import expand_images

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
    """``--viewer`` (the rest is :func:`automl_nb.cli._verb_table.explain_arguments`)."""
    parser.add_argument("--viewer", action="store_true", help="open the explanation viewer")


def run(args: argparse.Namespace, ctx: Any) -> Any:
    model_dir = resolve_model_source(args, ctx)
    images = expand_images(args.images)
    algorithms, params = explain_settings(args)
    if args.viewer:
        from automl_nb.notebook.widgets import ExplanationViewer

        params.pop("labels_to_explain", None)
        viewer = ExplanationViewer(model_dir, images, algorithms=algorithms, params=params)
        if args.label in viewer.label.options:
            viewer.label.value = args.label
        return viewer
    from automl_nb.explain import as_explainable
    from automl_nb.explain import explain_image

    model = as_explainable(model_dir, device=args.device or "cpu")
    results, flat = {}, set()
    for image in images:
        for algorithm in algorithms:
            explained = explain_image(model, image, algorithm=algorithm, **params)
            results[(image, algorithm)] = explained.to_dict()
            if any(not e.attributions.any() for e in explained.explanations):
                flat.add((image, algorithm))
    return ExplainView(images, algorithms, results, flat=flat)
