"""Corpus cases for scoring requests, the dataset doctor and the real-process sample."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from corpus_cases import WHERE
from corpus_cases import Case
from corpus_cases import Run
from corpus_files import BROKEN_IMAGES
from corpus_files import TASKS
from corpus_files import bomb_png
from corpus_files import jpeg_bytes
from corpus_files import png_bytes
from corpus_files import write_jsonl
from corpus_more import converter_cases
from corpus_more import model_cases

# -- scoring requests ------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _xai(**params: Any) -> str:
    return json.dumps(
        {
            "image_base64": _b64(png_bytes(16)),
            "model_explainability": True,
            "xai_parameters": params,
        }
    )


def _body(*items: Any) -> str:
    return json.dumps({"input_data": {"columns": ["image"], "data": list(items)}})


_SCORING_BAD: dict[str, tuple[str | bytes, tuple[str, ...], int]] = {
    "not-json": ("{oops", ("the body", "not valid JSON"), 400),
    "not-utf8": (b"\xff\xfe\x00", ("the body",), 400),
    "deep-100000": ("[" * 100_000 + "]" * 100_000, ("nested",), 400),
    "deep-40": (json.dumps({"input_data": json.loads("[" * 40 + "]" * 40)}), ("nested",), 400),
    "no-input-data": ('{"data": []}', ("input_data",), 400),
    "data-not-list": ('{"input_data": {"data": "x"}}', ("input_data.data",), 400),
    "data-empty": (_body(), ("input_data.data",), 400),
    "too-many-images": (_body(*[_b64(png_bytes(8))] * 33), ("limit is 32",), 413),
    "columns": (json.dumps({"input_data": {"columns": ["x"], "data": ["a"]}}), ("columns",), 400),
    "bad-base64": (_body("!!!not base64!!!"), ("input_data.data[0]", "base64"), 400),
    "empty-image": (_body(""), ("input_data.data[0]",), 400),
    "number-item": (_body(5), ("input_data.data[0]",), 400),
    "second-item": (_body(_b64(png_bytes(8)), 5), ("input_data.data[1]",), 400),
    "text-image": (_body(_b64(b"hello world, not an image")), ("input_data.data[0]",), 400),
    "truncated-png": (_body(_b64(png_bytes(64)[:60])), ("input_data.data[0]",), 400),
    "truncated-jpeg": (_body(_b64(jpeg_bytes(64)[:300])), ("input_data.data[0]",), 400),
    "bomb-png": (_body(_b64(bomb_png())), ("input_data.data[0]", "pixels"), 413),
    "huge-canvas": (_body(_b64(bomb_png(6000, 6000))), ("input_data.data[0]", "6000 x 6000"), 413),
    "second-canvas": (
        _body(_b64(png_bytes(8)), _b64(bomb_png(6000, 6000))),
        ("input_data.data[1]", "limit is 25000000"),
        413,
    ),
    "item-deep": (
        _body('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        ("input_data.data[0]", "nested"),
        400,
    ),
    "n-steps-huge": (_body(_xai(n_steps=100_000_000)), ("xai_parameters.n_steps",), 400),
    "n-steps-zero": (_body(_xai(n_steps=0)), ("xai_parameters.n_steps",), 400),
    "n-steps-text": (_body(_xai(n_steps="50")), ("xai_parameters.n_steps",), 400),
    "batch-huge": (_body(_xai(internal_batch_size=10**6)), ("internal_batch_size",), 400),
    "xai-not-object": (
        _body(_xai().replace('"xai_parameters": {}', '"xai_parameters": 5')),
        ("xai_parameters",),
        400,
    ),  # fmt: skip
    "xai-bad-json": (
        _body(_xai().replace('"xai_parameters": {}', '"xai_parameters": "{oops"')),
        ("xai_parameters",),
        400,
    ),
    "xai-unknown": (_body(_xai(n_stepz=5)), ("n_stepz",), 400),
    "xai-algorithm": (_body(_xai(xai_algorithm="magic")), ("magic",), 400),
}


def scoring_cases() -> Iterator[Case]:
    """Bad scoring request bodies, scored in-process as ``POST /score`` scores them."""
    for name, (body, expect, status) in _SCORING_BAD.items():

        def build(folder: Path, context: Any, body=body, expect=expect, status=status) -> Run:
            return Run(call=lambda: context.server.score(body), expect=expect, status=status)

        yield Case(f"score-{name}", build)


def subprocess_cases() -> Iterator[Case]:
    """A sample of the cases above as real ``python -m automl_nb.cli`` processes."""
    from corpus_cases import image_cases
    from corpus_cases import job_yaml_cases
    from corpus_cases import jsonl_line_cases
    from corpus_cases import mltable_cases

    chosen = {
        "job-alias-bomb-9x9",
        "job-self-alias",
        "job-deep-100000",
        "mltable-alias-bomb",
        "jsonl-cls-line-deep-100000",
        "image-cls-bomb_png",
        "image-det-truncated_jpeg",
        "predict-model-pickle-code",
        "explain-out-is-a-file",
    }
    groups = (
        job_yaml_cases,
        mltable_cases,
        jsonl_line_cases,
        image_cases,
        converter_cases,
        model_cases,
    )
    for group in groups:
        for case in group():
            if case.id in chosen or case.id == "convert-coco-bbox-strings":

                def build(folder: Path, context: Any, case=case) -> Run:
                    run = case.build(folder, context)
                    run.subprocess = True
                    return run

                yield Case(f"process-{case.id}", build)


def check_cases() -> Iterator[Case]:
    """The dataset doctor (``check``) on the same broken lines and images."""
    from corpus_cases import jsonl_line_cases
    from corpus_files import write_images

    for case in jsonl_line_cases():
        if not case.id.startswith(("jsonl-cls-", "jsonl-det-")):
            continue

        def build(folder: Path, context: Any, case=case) -> Run:
            case.build(folder, context)  # writes the broken train.jsonl
            write_images(folder)
            return Run(argv=["check", str(folder / "train.jsonl")], expect=(WHERE,))

        yield Case(case.id.replace("jsonl-", "check-", 1), build)
    for kind, content in BROKEN_IMAGES.items():

        def image(folder: Path, context: Any, content=content) -> Run:
            write_images(folder)
            write_jsonl(folder, TASKS[0])
            (folder / "images" / "004.png").write_bytes(content)
            return Run(argv=["check", str(folder / "train.jsonl")], expect=("004.png",))

        yield Case(f"check-image-{kind}", image)
