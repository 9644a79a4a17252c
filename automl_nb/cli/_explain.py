"""``automl-vision explain MODEL_DIR IMAGE...``: attributions (.npy) and the 2x2 PNG per label."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from automl_nb.cli._jobs_common import resolve_model_source
from automl_nb.cli._verb_table import CommandContext
from automl_nb.cli._verb_table import explain_settings
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

HELP = "explain a classifier's predictions: attributions (.npy) and 2x2 PNGs per image"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--out`` (the rest is :func:`automl_nb.cli._verb_table.explain_arguments`)."""
    parser.add_argument(
        "--out", default="explanations", help="output folder (default ./explanations)"
    )


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "image"


def _write_explanations(result: Any, out: Path, stem: str, algorithm: str) -> list[dict]:
    """Write ``<stem>.<label>.<algorithm>.{npy,png}`` per explained label; list them."""
    import numpy as np

    files = []
    for item in result.explanations:
        base = f"{_safe(stem)}.{_safe(item.label)}.{algorithm}"
        npy, png = out / f"{base}.npy", out / f"{base}.png"
        np.save(npy, item.attributions)
        png.write_bytes(item.png)
        files.append(
            {
                "label": item.label,
                "score": item.score,
                "algorithm": algorithm,
                "attributions": str(npy),
                "visualization": str(png),
            }
        )
    return files


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Explain every image; write ``<image>.<label>.<algorithm>.{npy,png}`` under ``--out``.

    Prints a JSON list with, per image, the prediction (``probs``, ``labels``) and the files
    written for each explained label.
    """
    from automl_nb.explain import as_explainable
    from automl_nb.explain import explain_image

    algorithms, params = explain_settings(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(
            Problem(
                "is an existing file; --out names a folder for the explanations", file=str(out)
            )
        )
    model = as_explainable(resolve_model_source(args, ctx), device=args.device)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            Problem(f"cannot create the output folder: {exc.strerror}", file=str(out))
        ) from None
    summary = []
    for image in args.images:
        files: list[dict] = []
        for algorithm in algorithms:
            result = explain_image(model, image, algorithm=algorithm, **params)
            files += _write_explanations(result, out, Path(str(image)).stem, algorithm)
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
