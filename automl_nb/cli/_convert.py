"""``automl-vision convert FORMAT SRC -o OUT``: annotations to Azure JSONL, or JSONL back."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from automl_nb.cli._jobs_common import add_datastore_argument
from automl_nb.cli._verb_table import CommandContext
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.tasks import TASK_NAMES

HELP = "Convert COCO, VOC, YOLO, image folders, CSV or instance masks to Azure JSONL (and back)."

_FORMATS = ("coco", "voc", "yolo", "folder", "csv", "masks")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``convert``."""
    add_datastore_argument(parser)
    parser.add_argument("format", metavar="FORMAT", help=f"source format: {', '.join(_FORMATS)}")
    parser.add_argument(
        "src",
        metavar="SRC",
        help="annotation file or dataset folder; a .jsonl file or MLTable folder is exported "
        "to FORMAT instead (coco, voc, yolo)",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="JSONL file to write (export: COCO .json file or VOC/YOLO folder)",
    )
    parser.add_argument(
        "--task", choices=TASK_NAMES, help="target task (default: what the source holds)"
    )
    parser.add_argument(
        "--names",
        metavar="FILE",
        help="YOLO class-names file (classes.txt, obj.names or a data YAML)",
    )
    parser.add_argument(
        "--images", metavar="DIR", help="image folder, when not found next to the annotations"
    )
    parser.add_argument("--masks", metavar="DIR", help="mask folder for FORMAT masks")
    parser.add_argument(
        "--label", metavar="NAME", help="class name of every mask instance (FORMAT masks)"
    )
    parser.add_argument(
        "--mltable", action="store_true", help="also write an MLTable file next to the JSONL"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def _is_jsonl_source(src: Path) -> bool:
    return (src.is_file() and src.suffix.lower() == ".jsonl") or (
        src.is_dir() and (src / "MLTable").is_file()
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Convert (or export) and print what was done."""
    from automl_nb.data.converters import convert
    from automl_nb.data.converters import export
    from automl_nb.data.converters import get_format

    fmt = get_format(args.format)
    src = Path(args.src)
    output = Path(args.output)
    if not (_is_jsonl_source(src) and fmt.writer is not None) and output.is_dir():
        raise DataError(Problem("is a folder; -o names the JSONL file to write", file=str(output)))
    if _is_jsonl_source(src) and fmt.writer is not None:
        written = export(src, fmt.name, args.output, task=args.task)
        if args.json:
            print(json.dumps({"format": fmt.name, "source": str(src), "output": str(written)}))
        else:
            print(f"{src} -> {fmt.name}: {written}")
        return 0
    report = convert(
        fmt.name,
        src,
        args.output,
        task=args.task,
        mltable=args.mltable,
        names=args.names,
        images=args.images,
        masks=args.masks,
        label=args.label,
    )
    print(json.dumps(report.to_dict(), indent=2) if args.json else report)
    return 0
