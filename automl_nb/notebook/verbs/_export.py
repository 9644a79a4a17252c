"""``export``: export a job's best model (or a model folder) to ONNX, TorchScript or MLflow."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from automl_nb.cli._jobs_common import resolve_model_source
from automl_nb.notebook._html import esc
from automl_nb.notebook._html import table
from automl_nb.notebook._results import Result

HELP = """Export the best model of a job (default: the newest with a best model) or a model folder to
ONNX, TorchScript or an MLflow model folder, written to OUT (a new or empty folder).
.out is the folder and .files the files written.

examples:
  %automl_vision export --format onnx -o exported/onnx
  %automl_vision export --format onnx -o exported/onnx --onnx-normalization
  %automl_vision export --job fridge-1 --format torchscript -o exported/ts
  %automl_vision export --model runs/default/fridge-.../best_model --format mlflow -o mlflow
"""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Nothing beyond :func:`automl_nb.cli._verb_table.export_arguments`."""


class ExportView(Result):
    """What an export wrote.

    Attributes:
        format: The export format.
        model_dir: The exported model folder.
        out: The export folder.
        files: The files written, relative to ``out``.
        info: ``export.json`` (input and output spec), or ``{}`` (MLflow).
    """

    def __init__(self, fmt: str, model_dir: Path, out: Path) -> None:
        from automl_nb.inference.export import written_files

        self.format = fmt
        self.model_dir = Path(model_dir)
        self.out = Path(out)
        self.files = written_files(out)
        try:
            self.info: dict[str, Any] = json.loads(
                (self.out / "export.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError):
            self.info = {}

    def _sizes(self) -> list[list[str]]:
        rows = []
        for name in self.files:
            size = (self.out / name).stat().st_size
            rows.append([str(name), f"{size / 1e6:.2f} MB" if size >= 1e5 else f"{size} B"])
        return rows

    def to_text(self) -> str:
        lines = [f"exported {self.model_dir} as {self.format} to {self.out}"]
        shown = self._sizes()
        lines += [f"  {name}  ({size})" for name, size in shown[:20]]
        if len(shown) > 20:
            lines.append(f"  ... {len(shown) - 20} more")
        if self.info.get("input"):
            lines.append(f"input: {json.dumps(self.info['input'])}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = self._sizes()
        more = f"<p>... {len(rows) - 20} more</p>" if len(rows) > 20 else ""
        spec = ""
        if self.info.get("input"):
            spec = f"<pre style='margin:0'>input: {esc(json.dumps(self.info['input']))}</pre>"
        return (
            f"<div><b>{esc(self.format)}</b> export of <code>{esc(self.model_dir)}</code> "
            f"to <code>{esc(self.out)}</code>{table(['file', 'size'], rows[:20])}{more}"
            f"{spec}</div>"
        )


def run(args: argparse.Namespace, ctx: Any) -> ExportView:
    from automl_nb.inference.export import export_model

    model_dir = resolve_model_source(args, ctx)
    options = {
        "batch_size": args.batch_size,
        "normalization": args.onnx_normalization,
        "height": args.height,
        "width": args.width,
    }
    out = export_model(model_dir, args.format, args.output, overwrite=args.overwrite, **options)
    return ExportView(args.format, model_dir, out)
