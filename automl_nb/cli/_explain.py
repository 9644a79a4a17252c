"""``automl-vision explain MODEL_DIR IMAGE...``: attributions (.npy) and the 2x2 PNG per label."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

HELP = "explain a classifier's predictions: attributions (.npy) and 2x2 PNGs per image"

# Past a few hundred steps the attributions no longer change, only time and memory grow.
MAX_N_STEPS = 1000

_ALGORITHMS = ("xrai", "integrated_gradients", "guided_backprop", "guided_gradcam")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Fill the ``explain`` sub-parser."""
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="a trained model folder")
    parser.add_argument("images", metavar="IMAGE", nargs="+", help="image files or URLs")
    parser.add_argument(
        "--algorithm", "-a", default="xrai", help=f"one of {', '.join(_ALGORITHMS)} (default xrai)"
    )
    parser.add_argument("--n-steps", type=int, default=None, help="IG steps (xrai, IG; 50)")
    parser.add_argument(
        "--approximation-method",
        default=None,
        help="integrated_gradients: riemann_middle (default) or gausslegendre",
    )
    parser.add_argument(
        "--xrai-fast",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="xrai: the fast algorithm (default) or the full one",
    )
    parser.add_argument(
        "--confidence-score-threshold-multilabel",
        type=float,
        default=0.5,
        help="multi-label: explain each label scoring at least this (0.5)",
    )
    parser.add_argument(
        "--out", default="explanations", help="output folder (default ./explanations)"
    )
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: auto)")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "image"


def run(args: argparse.Namespace) -> int:
    """Explain every image; write ``<image>.<label>.<algorithm>.{npy,png}`` under ``--out``.

    Prints a JSON list with, per image, the prediction (``probs``, ``labels``) and the files
    written for each explained label.
    """
    import numpy as np

    from automl_nb.explain import as_explainable
    from automl_nb.explain import explain_image

    params = {
        "n_steps": args.n_steps,
        "approximation_method": args.approximation_method,
        "xrai_fast": args.xrai_fast,
    }
    params = {key: value for key, value in params.items() if value is not None}
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(
            Problem(
                "is an existing file; --out names a folder for the explanations", file=str(out)
            )
        )
    if args.n_steps is not None and not 1 <= args.n_steps <= MAX_N_STEPS:
        raise ConfigError(
            Problem(f"must be from 1 to {MAX_N_STEPS}", path="--n-steps", value=str(args.n_steps))
        )
    model = as_explainable(args.model_dir, device=args.device)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            Problem(f"cannot create the output folder: {exc.strerror}", file=str(out))
        ) from None
    summary = []
    for image in args.images:
        result = explain_image(
            model,
            image,
            algorithm=args.algorithm,
            confidence_score_threshold_multilabel=args.confidence_score_threshold_multilabel,
            **params,
        )
        stem = _safe(Path(str(image)).stem)
        files = []
        for item in result.explanations:
            base = f"{stem}.{_safe(item.label)}.{args.algorithm}"
            npy, png = out / f"{base}.npy", out / f"{base}.png"
            np.save(npy, item.attributions)
            png.write_bytes(item.png)
            files.append(
                {
                    "label": item.label,
                    "score": item.score,
                    "attributions": str(npy),
                    "visualization": str(png),
                }
            )
        summary.append(
            {
                "image": str(image),
                "probs": result.probs,
                "labels": result.labels,
                "explained": files,
            }
        )
    json.dump(summary, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
