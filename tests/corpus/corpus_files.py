"""Writers of the good and bad files the bad-input corpus is made of (images, JSONL, YAML)."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

from PIL import Image

N_LINES = 12  # validate needs at least 10 training images
BAD_LINE = 5  # the line each JSONL case breaks

TASKS = (
    "image_classification",
    "image_classification_multilabel",
    "image_object_detection",
    "image_instance_segmentation",
)


def png_bytes(size: int = 8, seed: int = 0) -> bytes:
    """A small valid PNG."""
    image = Image.new("RGB", (size, size), (seed * 40 % 255, 90, 160))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(size: int = 32) -> bytes:
    """A small valid JPEG."""
    image = Image.new("RGB", (size, size), (200, 30, 60))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""
    data = bytearray(png_bytes(1))
    # IHDR starts at byte 8: length (4), type (4), width (4), height (4), ... then its CRC.
    data[16:24] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF
    data[29:33] = struct.pack(">I", crc)
    return bytes(data)


BROKEN_IMAGES: dict[str, bytes] = {
    "truncated_jpeg": jpeg_bytes(64)[:300],
    "truncated_png": png_bytes(64)[:60],
    "bomb_png": bomb_png(),
    "empty_file": b"",
    "text_file": b"this is not an image\n",
    "random_bytes": bytes(range(256)) * 4,
}


def good_label(task: str, index: int = 0) -> Any:
    """A valid label of ``task``."""
    name = ("cat", "dog")[index % 2]
    if task == "image_classification":
        return name
    if task == "image_classification_multilabel":
        return [name]
    box = {"label": name, "topX": 0.1, "topY": 0.1, "bottomX": 0.6, "bottomY": 0.7, "isCrowd": 0}
    if task == "image_instance_segmentation":
        box["polygon"] = [[0.1, 0.1, 0.6, 0.1, 0.6, 0.7, 0.1, 0.7]]
    return [box]


def good_line(task: str, index: int) -> dict[str, Any]:
    """One valid JSONL object of ``task``."""
    return {
        "image_url": f"images/{index:03d}.png",
        "image_details": {"format": "png", "width": 8, "height": 8},
        "label": good_label(task, index),
    }


def write_images(folder: Path, count: int = N_LINES) -> None:
    """``images/000.png`` ... in ``folder``."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / "images" / f"{i:03d}.png").write_bytes(png_bytes(8, i))


def write_jsonl(folder: Path, task: str, bad_line: str | None = None, **options: Any) -> Path:
    """``train.jsonl`` of valid lines, line :data:`BAD_LINE` replaced by ``bad_line``."""
    lines = [json.dumps(good_line(task, i)) for i in range(N_LINES)]
    if bad_line is not None:
        lines[BAD_LINE - 1] = bad_line
    newline = options.get("newline", "\n")
    text = newline.join(lines) + newline
    path = folder / "train.jsonl"
    path.write_bytes(options.get("prefix", b"") + text.encode("utf-8"))
    return path


def job_text(task: str, data: str = "train.jsonl", data_type: str = "uri_file") -> str:
    """A minimal valid job YAML of ``task``."""
    return (
        f"task: {task}\n"
        "target_column_name: label\n"
        f"training_data: {{path: {data}, type: {data_type}}}\n"
    )


def write_job(folder: Path, task: str = "image_classification", **kwargs: Any) -> Path:
    """``job.yml`` reading ``train.jsonl`` (or what ``kwargs`` say)."""
    path = folder / "job.yml"
    path.write_text(job_text(task, **kwargs), encoding="utf-8")
    return path


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """YAML of ``levels`` anchors, each a list of ``width`` aliases of the one before."""
    lines = ["a0: &a0 [x]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


MLTABLE_TEXT = """paths:
  - file: ./train.jsonl
transformations:
  - read_json_lines:
      encoding: utf8
      invalid_lines: error
"""
