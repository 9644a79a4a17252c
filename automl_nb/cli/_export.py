"""``automl-vision export MODEL_DIR --format F -o OUT``: ONNX, TorchScript or MLflow."""

from __future__ import annotations

import argparse

HELP = "export a trained model folder to ONNX, TorchScript or an MLflow model folder"

FORMATS = ("onnx", "torchscript", "mlflow")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Fill the ``export`` sub-parser."""
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="a trained model folder")
    parser.add_argument("--format", "-f", required=True, choices=FORMATS, help="export format")
    parser.add_argument(
        "--output", "-o", required=True, metavar="OUT", help="folder to write (must be empty)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="onnx: fixed batch size (detection default 1; classification default dynamic)",
    )
    parser.add_argument(
        "--onnx-normalization",
        action="store_true",
        default=None,
        help="classification: normalise inside the model; the input is RGB scaled to 0-1 "
        "(Azure's enable_onnx_normalization)",
    )
    parser.add_argument("--height", type=int, default=None, help="onnx detection: input height")
    parser.add_argument("--width", type=int, default=None, help="onnx detection: input width")
    parser.add_argument(
        "--overwrite", action="store_true", help="write into a non-empty OUT folder"
    )


def run(args: argparse.Namespace) -> int:
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
        args.model_dir, args.format, args.output, overwrite=args.overwrite, **options
    )
    files = written_files(out)
    print(f"exported {args.format} model to {out} ({len(files)} files)")
    for name in files[:20]:
        print(f"  {name}")
    if len(files) > 20:
        print(f"  ... {len(files) - 20} more")
    return 0
