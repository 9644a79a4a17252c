"""COCO ``instances`` JSON: boxes, polygons and RLE masks (compressed or not), both ways."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from automl_nb.data._records import ImageRecord
from automl_nb.data._records import LabeledImages
from automl_nb.data._records import ObjectAnnotation
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.tasks import Task

from ._adapt import natural_task
from ._common import annotation_from_polygons
from ._common import clean_polygon
from ._common import image_size
from ._common import list_images
from ._common import make_record
from ._common import mask_to_polygons
from ._common import normalised_box
from ._common import number
from ._common import read_text
from ._common import was_clipped
from ._registry import register_format
from ._registry import register_writer
from ._report import ConversionReport


def _find_json(src: Path) -> Path:
    if src.is_file():
        return src
    if not src.is_dir():
        raise DataError(Problem("no such file or folder", file=str(src)))
    candidates = sorted(src.glob("*.json")) + sorted(src.glob("annotations/*.json"))
    preferred = [p for p in candidates if "instances" in p.name or "coco" in p.name]
    chosen = preferred or candidates
    if len(chosen) == 1:
        return chosen[0]
    names = ", ".join(p.name for p in chosen) or "none"
    raise DataError(
        Problem(f"expected one COCO .json file in the folder, found: {names}", file=str(src))
    )


class _ImageFinder:
    """Resolves COCO ``file_name`` values against likely image folders, tolerant of layouts."""

    def __init__(self, json_path: Path, images: Path | None):
        folder = json_path.parent
        roots = [images] if images else []
        stem = json_path.stem.replace("instances_", "")
        roots += [folder, folder / "images", folder / "data", folder.parent / "images"]
        roots += [folder.parent / stem, folder.parent, folder.parent / "images" / stem]
        self.roots = [r for r in dict.fromkeys(roots) if r is not None and r.is_dir()]
        self._index: dict[str, Path] | None = None

    def find(self, file_name: str) -> Path | None:
        name = file_name.replace("\\", "/")
        if os.path.isabs(name) and Path(name).is_file():
            return Path(name)
        for root in self.roots:
            for candidate in (root / name.lstrip("/"), root / Path(name).name):
                if candidate.is_file():
                    return candidate
        if self._index is None:  # last resort: search by file name, case-insensitive
            self._index = {}
            for root in self.roots[:3]:
                for path in list_images(root):
                    self._index.setdefault(path.name.lower(), path)
        return self._index.get(Path(name).name.lower())


def _decode_rle(segmentation: dict[str, Any], height: int, width: int):
    from pycocotools import mask as mask_utils

    size = segmentation.get("size") or [height, width]
    counts = segmentation["counts"]
    _check_rle(size, counts, height, width)
    if isinstance(counts, list):  # uncompressed RLE -> compressed first
        rle = mask_utils.frPyObjects({"size": list(size), "counts": counts}, *size)
    else:
        rle = {
            "size": list(size),
            "counts": counts.encode("ascii") if isinstance(counts, str) else counts,
        }
    with warnings.catch_warnings():
        # pycocotools builds arrays the NumPy 2 way it warns about; the result is correct
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_utils.decode(rle)


def _compressed_counts(text: str) -> list[int]:
    """The run lengths of a compressed COCO RLE string (pycocotools' ``rleFrString``)."""
    counts: list[int] = []
    p = 0
    while p < len(text):
        x = k = 0
        more = True
        while more:
            if p >= len(text):
                raise ValueError("the counts string ends inside a number")
            c = ord(text[p]) - 48
            if not 0 <= c < 64:
                raise ValueError(f"character {text[p]!r} cannot be in a counts string")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def _check_rle(size: Any, counts: Any, height: int, width: int) -> None:
    """Refuse an RLE that pycocotools would decode into garbage (it does not check)."""
    if (
        not isinstance(size, list)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        raise ValueError(f"RLE size must be [height, width] (got {size!r})")
    if list(size) != [height, width]:
        raise ValueError(f"RLE size {size} is not the image's [height, width] {[height, width]}")
    if isinstance(counts, bytes):
        counts = counts.decode("ascii", errors="replace")
    if isinstance(counts, str):
        runs = _compressed_counts(counts)
    elif isinstance(counts, list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in counts
    ):
        runs = counts
    else:
        raise ValueError("RLE counts must be a string or a list of integers")
    if not runs or any(v < 0 for v in runs) or sum(runs) != height * width:
        raise ValueError(
            f"RLE counts must be non-negative runs adding up to height x width = "
            f"{height * width} pixels (they add up to {sum(runs) if runs else 0})"
        )


def _segments(
    seg: Any, width: int, height: int, report: ConversionReport
) -> list[tuple[float, ...]]:
    """Normalised polygon segments of a COCO ``segmentation`` (polygons or RLE)."""
    if not seg:
        return []
    pixel_polygons: list[list[float]]
    if isinstance(seg, dict):
        if "counts" not in seg:
            return []
        try:
            mask = _decode_rle(seg, height, width)
        except Exception as exc:  # pycocotools raises bare Exceptions and C-level errors
            raise ValueError(f"segmentation: invalid RLE ({exc or type(exc).__name__})") from None
        pixel_polygons = mask_to_polygons(mask)
        report.note("RLE masks converted to polygons")
    elif isinstance(seg, list) and seg and isinstance(seg[0], (int, float)):
        pixel_polygons = [seg]  # a single flat polygon instead of a list of them
    else:
        pixel_polygons = [list(p) for p in seg if isinstance(p, list)]
    out = []
    for poly in pixel_polygons:
        values = [number(v, "segmentation coordinate") for v in poly]
        norm = [v / (width if i % 2 == 0 else height) for i, v in enumerate(values)]
        cleaned = clean_polygon(norm)
        if cleaned is None:
            report.note("degenerate polygon segments (< 3 points) dropped")
        else:
            out.append(cleaned)
    return out


@register_format(
    "coco",
    description="COCO instances JSON (boxes, polygons, RLE masks)",
    tasks=(Task.OBJECT_DETECTION, Task.INSTANCE_SEGMENTATION),
)
def read_coco(
    src: str | os.PathLike[str],
    *,
    report: ConversionReport,
    images: str | os.PathLike[str] | None = None,
    **_: Any,
) -> LabeledImages:
    """Read a COCO ``instances`` JSON file (or a folder holding one).

    Images without annotations become background images; ``iscrowd`` (and ``ignore``) map to
    ``isCrowd``; RLE masks are traced into polygons; category ids may have gaps.

    Args:
        src: The JSON file, or a folder with exactly one JSON file.
        report: Filled with skipped items and notes.
        images: Folder that ``file_name`` is relative to (default: searched near the JSON).
    """
    json_path = _find_json(Path(src))
    try:
        doc = json.loads(read_text(json_path))
    except json.JSONDecodeError as exc:
        raise DataError(
            Problem(f"not valid JSON: {exc.msg}", file=str(json_path), line=exc.lineno)
        ) from None
    except RecursionError:
        raise DataError(Problem("JSON nested too deeply", file=str(json_path))) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        raise DataError(Problem("not a COCO file: no 'images' list", file=str(json_path)))
    _check_entries(doc, json_path)
    # Ids are compared as text: some exporters write "3" in one place and 3 in another.
    categories = {
        str(c.get("id")): str(c.get("name", c.get("id"))) for c in doc.get("categories") or []
    }
    if not categories and doc.get("annotations"):
        report.note("no categories list: the category ids are the class names")
    finder = _ImageFinder(json_path, Path(images) if images else None)

    by_image: dict[Any, list[tuple[int, dict[str, Any]]]] = {}
    known_ids = {str(img.get("id")) for img in doc["images"]}
    for index, ann in enumerate(doc.get("annotations") or []):
        if str(ann.get("image_id")) not in known_ids:
            report.skip("annotation for an unknown image id", ann.get("image_id"))
            continue
        by_image.setdefault(str(ann.get("image_id")), []).append((index, ann))

    records: list[ImageRecord] = []
    for img in doc["images"]:
        file_name = str(img.get("file_name") or img.get("path") or "")
        path = finder.find(file_name) if file_name else None
        if path is None:
            report.skip("image file not found", file_name or img.get("id"))
            report.skip(
                "annotation of a missing image", count=len(by_image.get(str(img.get("id")), []))
            )
            continue
        try:
            width, height = image_size(path)
        except OSError:
            report.skip("unreadable image", path)
            continue
        # Annotations are in the pixel frame the JSON declares; fall back to the file's size.
        ann_w, ann_h = _declared_size(img, width, height, json_path, doc["images"].index(img))
        if (ann_w, ann_h) != (width, height):
            report.note(
                "images whose declared width/height differ from the file: their annotations "
                "were scaled from the declared frame"
            )
        objects = []
        for index, ann in by_image.get(str(img.get("id")), []):
            try:
                obj = _annotation(ann, categories, ann_w, ann_h, report)
            except (ValueError, TypeError) as exc:
                where = f"annotations[{index}]" + (f" (id {ann['id']})" if "id" in ann else "")
                raise DataError(Problem(str(exc), file=str(json_path), path=where)) from None
            if obj is not None:
                objects.append(obj)
        records.append(make_record(path, tuple(objects), width, height))
    task = natural_task(records, Task.OBJECT_DETECTION)
    return LabeledImages(task=task, records=records, source=str(json_path))


def _check_entries(doc: dict[str, Any], json_path: Path) -> None:
    """Every image, annotation and category is an object; image ids are unique."""
    for key in ("images", "annotations", "categories"):
        entries = doc.get(key)
        if entries is None and key != "images":
            continue
        if not isinstance(entries, list):
            raise DataError(Problem("must be a list", file=str(json_path), path=key))
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise DataError(
                    Problem(
                        "each entry must be an object",
                        file=str(json_path),
                        path=f"{key}[{index}]",
                        value=repr(entry)[:80],
                    )
                )
    _check_category_names(doc.get("categories") or [], json_path)
    _check_unique(
        doc.get("categories") or [],
        "categories",
        "id",
        json_path,
        "its annotations could not tell the two classes apart",
    )
    _check_unique(
        doc["images"],
        "images",
        "id",
        json_path,
        "annotations could not tell the two images apart",
    )
    _check_unique(
        doc.get("annotations") or [],
        "annotations",
        "id",
        json_path,
        "the object would be counted twice",
    )


def _check_unique(
    entries: list[dict[str, Any]], section: str, key: str, json_path: Path, why: str
) -> None:
    """``key`` (compared as text, where given) is unique across ``entries``."""
    first: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if entry.get(key) is None and section == "annotations":
            continue  # annotation ids are optional
        earlier = first.setdefault(str(entry.get(key)), index)
        if earlier != index:
            noun = {"categories": "category", "images": "image", "annotations": "annotation"}
            raise DataError(
                Problem(
                    f"{noun[section]} {key} {entry.get(key)!r} is also the {key} of "
                    f"{section}[{earlier}]; {why}",
                    file=str(json_path),
                    path=f"{section}[{index}].{key}",
                )
            )


def _check_category_names(categories: list[dict[str, Any]], json_path: Path) -> None:
    """Every category has a non-empty name (text or a number)."""
    for index, cat in enumerate(categories):
        name = cat.get("name")
        if not isinstance(name, (str, int)) or isinstance(name, bool) or not str(name).strip():
            raise DataError(
                Problem(
                    "a category needs a non-empty name",
                    file=str(json_path),
                    path=f"categories[{index}].name",
                    value=repr(name)[:80],
                )
            )
    # Two ids of one name would merge two classes without a word.
    _check_unique(
        categories, "categories", "name", json_path, "their annotations would merge into one class"
    )


def _declared_size(
    img: dict[str, Any], width: int, height: int, json_path: Path, index: int
) -> tuple[float, float]:
    """The pixel frame the JSON declares for an image (its file's size when absent)."""
    try:
        ann_w = number(width if img.get("width") is None else img["width"], "width")
        ann_h = number(height if img.get("height") is None else img["height"], "height")
    except ValueError as exc:
        raise DataError(Problem(str(exc), file=str(json_path), path=f"images[{index}]")) from None
    if ann_w <= 0 or ann_h <= 0:
        raise DataError(
            Problem(
                "width and height must be positive", file=str(json_path), path=f"images[{index}]"
            )
        )
    return ann_w, ann_h


def _annotation(
    ann: dict[str, Any],
    categories: dict[Any, str],
    width: float,
    height: float,
    report: ConversionReport,
) -> ObjectAnnotation | None:
    cat = str(ann.get("category_id"))
    if cat not in categories:
        if categories:
            report.skip("annotation with an unknown category_id", cat)
            return None
        categories[cat] = cat  # a file without a categories list: ids are the names
    label = categories[cat]
    for flag in ("iscrowd", "ignore"):
        if ann.get(flag) not in (None, 0, 1, False, True):
            raise ValueError(f"{flag} must be 0 or 1 (got {ann.get(flag)!r})")
    crowd = bool(ann.get("iscrowd") or ann.get("ignore"))
    segments = _segments(ann.get("segmentation"), int(width), int(height), report)
    bbox = ann.get("bbox")
    if bbox is not None and not isinstance(bbox, list):
        raise ValueError(f"bbox must be a list [x, y, width, height] (got {bbox!r})")
    if bbox and len(bbox) >= 4:
        x, y, w, h = (number(v, f"bbox[{i}]") for i, v in enumerate(bbox[:4]))
        if w < 0 or h < 0:
            raise ValueError(
                f"bbox width and height must not be negative (got {bbox[:4]!r}); the box is "
                "not flipped into another one"
            )
        box = normalised_box(x, y, x + w, y + h, width, height)
        if box is not None and was_clipped(x, y, x + w, y + h, width, height):
            report.note("boxes reaching outside the image clipped to it")
        if box is None:
            report.skip("annotation with an empty or outside box", ann.get("id"))
            return None
        return ObjectAnnotation(label, *box, is_crowd=crowd, polygon=tuple(segments))
    obj = annotation_from_polygons(label, segments, is_crowd=crowd)
    if obj is None:
        report.skip("annotation with neither bbox nor segmentation", ann.get("id"))
    return obj


def _polygon_area(flat: list[float]) -> float:
    xs, ys = flat[0::2], flat[1::2]
    n = len(xs)
    return abs(sum(xs[i] * ys[(i + 1) % n] - xs[(i + 1) % n] * ys[i] for i in range(n))) / 2


@register_writer("coco")
def write_coco(
    data: LabeledImages,
    out: str | os.PathLike[str],
    *,
    images_root: str | os.PathLike[str] | None = None,
    **_: Any,
) -> Path:
    """Write detection or instance-segmentation records as a COCO ``instances`` JSON file.

    Category ids are 1..K in ``data.labels`` order; ``file_name`` is relative to
    ``images_root`` (default: the JSON file's folder), so the reader finds the images again.

    Returns:
        The JSON path written.
    """
    if not data.task.is_detection:
        raise DataError(Problem(f"COCO export needs detection data, not {data.task}"))
    out_path = Path(out)
    if out_path.suffix.lower() != ".json":
        out_path = out_path / "annotations.json"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    root = Path(images_root or out_path.parent).resolve()
    cat_ids = {name: i + 1 for i, name in enumerate(data.labels)}
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image_id, record in enumerate(data.records, start=1):
        width, height = record.width, record.height
        if not width or not height:
            width, height = image_size(Path(record.path))
        rel = os.path.relpath(Path(record.path).resolve(), root).replace(os.sep, "/")
        images.append({"id": image_id, "file_name": rel, "width": width, "height": height})
        for obj in record.objects:
            x0, y0 = obj.top_x * width, obj.top_y * height
            w, h = (obj.bottom_x - obj.top_x) * width, (obj.bottom_y - obj.top_y) * height
            polys = [
                [round(v * (width if i % 2 == 0 else height), 2) for i, v in enumerate(seg)]
                for seg in obj.polygon
            ]
            area = sum(_polygon_area(p) for p in polys) if polys else w * h
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": cat_ids[obj.label],
                    "bbox": [round(x0, 2), round(y0, 2), round(w, 2), round(h, 2)],
                    "area": round(area, 2),
                    "iscrowd": int(obj.is_crowd),
                    "segmentation": polys,
                }
            )
    doc = {
        "info": {"description": "exported by automl-nb"},
        "images": images,
        "annotations": annotations,
        "categories": [{"id": i, "name": n, "supercategory": "none"} for n, i in cat_ids.items()],
    }
    out_path.write_text(json.dumps(doc), encoding="utf-8")
    return out_path
