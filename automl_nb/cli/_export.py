"""``automl-vision export MODEL_DIR --format F -o OUT``: ONNX, TorchScript or MLflow."""

from __future__ import annotations

import argparse

from automl_nb.cli._jobs_common import resolve_model_source
from automl_nb.cli._verb_table import CommandContext

HELP = "export a trained model folder to ONNX, TorchScript or an MLflow model folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing beyond :func:`automl_nb.cli._verb_table.export_arguments`."""


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Export the model and list the files written."""
    from automl_nb.inference.export import export_model
    from automl_nb.inference.export import written_files

    options = {
        "batch_size": args.batch_size,
        "normalization": args.onnx_normalization,
        "height": args.height,
        "width": args.width,
    }
    out = export_model(
        resolve_model_source(args, ctx),
        args.format,
        args.output,
        overwrite=args.overwrite,
        **options,
    )
    files = written_files(out)
    print(f"exported {args.format} model to {out} ({len(files)} files)")
    for name in files[:20]:
        print(f"  {name}")
    if len(files) > 20:
        print(f"  ... {len(files) - 20} more")
    return 0
