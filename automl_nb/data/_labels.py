"""Parse one JSONL line's label into records: class names, objects, boxes and polygons.

Every problem is added to a :class:`LineProblems` located at the line's ``file:line``.
"""

from __future__ import annotations

import math
from typing import Any

from automl_nb.config._fields import as_number
from automl_nb.data._records import ObjectAnnotation
from automl_nb.errors import Problem
from automl_nb.tasks import Task

IMAGE_FORMATS: tuple[str, ...] = ("jpg", "jpeg", "png", "jpe", "jfif", "bmp", "tif", "tiff")
# Normalised coordinates a little outside [0, 1] are rounding noise from pixel conversions.
COORD_SLACK = 1e-6

# A normalised polygon enclosing less than this is a line or a point, not an outline.
MIN_POLYGON_AREA = 1e-12

_BOX_KEYS = ("topX", "topY", "bottomX", "bottomY")

# Human names of the label shapes, used to explain "wrong shape" and "mixed schema" errors.
SHAPE_NAMES = {
    "class": "a class name",
    "classes": "a list of class names",
    "objects": "a list of objects with boxes",
    "polygons": "a list of objects with polygons",
    "empty": "an empty list",
    "object": "a single object dict",
    "other": "something else",
}
_TASK_SHAPE = {
    Task.CLASSIFICATION: "class",
    Task.CLASSIFICATION_MULTILABEL: "classes",
    Task.OBJECT_DETECTION: "objects",
    Task.INSTANCE_SEGMENTATION: "polygons",
}
SHAPE_TASK = {shape: task for task, shape in _TASK_SHAPE.items()}


class LineProblems:
    """Collects the problems of one line, all located at ``file:line``."""

    def __init__(self, file: str, line: int) -> None:
        self.file = file
        self.line = line
        self.items: list[Problem] = []

    def add(
        self,
        message: str,
        path: str | None = None,
        value: Any = ...,
        suggestion: str | None = None,
    ) -> None:
        shown = None if value is ... else _short_repr(value)
        self.items.append(
            Problem(
                message,
                file=self.file,
                line=self.line,
                path=path,
                value=shown,
                suggestion=suggestion,
            )
        )


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _number(value: Any) -> float | None:
    """A finite float from a number or a numeric string; ``None`` if it is not one."""
    number = as_number(value)
    return number if number is not None and math.isfinite(number) else None


def _class_name(value: Any) -> str | None:
    """A class name: a non-empty string, or an integer written as a number."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def label_shape(label: Any) -> str:
    if isinstance(label, (str, int, float)) and not isinstance(label, bool):
        return "class"
    if isinstance(label, dict):
        return "object"
    if isinstance(label, list):
        if not label:
            return "empty"
        if all(isinstance(item, dict) for item in label):
            has_polygons = any("polygon" in item for item in label)
            return "polygons" if has_polygons else "objects"
        if all(_class_name(item) is not None for item in label):
            return "classes"
    return "other"


def shape_matches(task: Task, shape: str) -> bool:
    if shape == "empty":
        return task is not Task.CLASSIFICATION
    if task is Task.OBJECT_DETECTION:
        # Detection may read segmentation data: the polygons are kept, the boxes are used.
        return shape in ("objects", "polygons")
    return _TASK_SHAPE[task] == shape


def _parse_size(value: Any, key: str, problems: LineProblems) -> int | None:
    if value is None:
        return None
    raw = value.strip().lower().removesuffix("px").strip() if isinstance(value, str) else value
    number = _number(raw)
    if number is None or number <= 0 or not number.is_integer():
        problems.add("must be a positive pixel count like 400 or '400px'", key, value)
        return None
    return int(number)


def parse_details(
    details: Any, problems: LineProblems
) -> tuple[int | None, int | None, str | None]:
    if details is None:
        return None, None, None
    if not isinstance(details, dict):
        problems.add("must be an object {format, width, height}", "image_details", details)
        return None, None, None
    width = _parse_size(details.get("width"), "image_details.width", problems)
    height = _parse_size(details.get("height"), "image_details.height", problems)
    fmt = details.get("format")
    if fmt is not None:
        if not isinstance(fmt, str) or fmt.strip().lower().lstrip(".") not in IMAGE_FORMATS:
            problems.add(
                f"unsupported image format; expected one of {', '.join(IMAGE_FORMATS)}",
                "image_details.format",
                fmt,
            )
            fmt = None
        else:
            fmt = fmt.strip().lower().lstrip(".")
    return width, height, fmt


def _coord(value: Any, path: str, problems: LineProblems) -> float | None:
    number = _number(value)
    if number is None:
        problems.add("must be a number in [0, 1]", path, value)
        return None
    if number < -COORD_SLACK or number > 1 + COORD_SLACK:
        hint = (
            "; boxes and polygons use coordinates normalised by the image size"
            if number > 1
            else ""
        )
        problems.add(f"coordinate outside [0, 1]{hint}", path, value)
        return None
    return min(1.0, max(0.0, number))


def _parse_crowd(value: Any, path: str, problems: LineProblems) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    number = _number(value)
    if number in (0.0, 1.0):
        return bool(number)
    problems.add("must be 0, 1, true or false", path, value)
    return False


def _parse_polygon(value: Any, path: str, problems: LineProblems) -> tuple[tuple[float, ...], ...]:
    if not isinstance(value, list) or not value:
        problems.add(
            "polygon must be a non-empty list of [x1, y1, x2, y2, ...] lists", path, value
        )
        return ()
    # A single flat list of numbers is one segment.
    segments = [value] if not isinstance(value[0], list) else value
    out = []
    for s, segment in enumerate(segments):
        seg_path = f"{path}[{s}]" if segments is value else path
        if not isinstance(segment, list) or not segment:
            problems.add("empty polygon segment", seg_path, segment)
            continue
        if len(segment) % 2:
            problems.add(
                f"polygon segment has an odd number of values ({len(segment)}); "
                "expected x, y pairs",
                seg_path,
            )
            continue
        if len(segment) < 6:
            problems.add(
                f"polygon segment has {len(segment) // 2} point(s); at least 3 are needed",
                seg_path,
                segment,
            )
            continue
        coords = [_coord(v, f"{seg_path}[{i}]", problems) for i, v in enumerate(segment)]
        if any(c is None for c in coords):
            continue
        points = tuple(c for c in coords if c is not None)
        if polygon_area(points) <= MIN_POLYGON_AREA:
            problems.add("polygon segment has no area (its points lie on one line)", seg_path)
            continue
        out.append(points)
    return tuple(out)


def polygon_area(flat: tuple[float, ...] | list[float]) -> float:
    """The area enclosed by a flattened ``x1, y1, x2, y2, ...`` polygon (shoelace formula)."""
    xs, ys = flat[0::2], flat[1::2]
    n = len(xs)
    return abs(sum(xs[i] * ys[(i + 1) % n] - xs[(i + 1) % n] * ys[i] for i in range(n))) / 2


def _parse_object(
    obj: Any, index: int, target: str, task: Task, problems: LineProblems
) -> ObjectAnnotation | None:
    path = f"{target}[{index}]"
    if not isinstance(obj, dict):
        problems.add("each object must be a dict with label and box", path, obj)
        return None
    before = len(problems.items)
    name = _class_name(obj.get("label"))
    if name is None:
        problems.add("missing or empty object label", f"{path}.label", obj.get("label", None))
    crowd = _parse_crowd(obj.get("isCrowd", obj.get("iscrowd")), f"{path}.isCrowd", problems)
    polygon: tuple[tuple[float, ...], ...] = ()
    if "polygon" in obj:
        polygon = _parse_polygon(obj["polygon"], f"{path}.polygon", problems)
    elif task is Task.INSTANCE_SEGMENTATION:
        problems.add("instance segmentation objects need a polygon", f"{path}.polygon")
    present = [k for k in _BOX_KEYS if k in obj]
    box: list[float | None]
    if present:
        by_lower = {str(k).lower(): str(k) for k in obj}
        for key in _BOX_KEYS:
            if key not in obj:
                found = by_lower.get(key.lower())
                hint = f" (found {found!r}; keys are case-sensitive)" if found else ""
                problems.add(f"missing box coordinate{hint}", f"{path}.{key}")
        box = [_coord(obj[k], f"{path}.{k}", problems) if k in obj else None for k in _BOX_KEYS]
    elif polygon:
        xs = [v for seg in polygon for v in seg[0::2]]
        ys = [v for seg in polygon for v in seg[1::2]]
        box = [min(xs), min(ys), max(xs), max(ys)]
    elif "polygon" not in obj:
        problems.add("missing box (topX, topY, bottomX, bottomY)", path)
        return None
    else:
        return None
    if len(problems.items) > before or name is None or any(v is None for v in box):
        return None
    x0, y0, x1, y1 = (float(v) for v in box)  # type: ignore[arg-type]
    if x0 >= x1:
        problems.add("box is inverted or empty: topX must be < bottomX", f"{path}.topX", (x0, x1))
    if y0 >= y1:
        problems.add("box is inverted or empty: topY must be < bottomY", f"{path}.topY", (y0, y1))
    if x0 >= x1 or y0 >= y1:
        return None
    return ObjectAnnotation(name, x0, y0, x1, y1, is_crowd=crowd, polygon=polygon)


def _wrong_shape_message(task: Task, shape: str) -> str:
    expected = SHAPE_NAMES[_TASK_SHAPE[task]]
    if task is Task.CLASSIFICATION and shape == "empty":
        return f"label must be {expected}, got an empty list"
    got = SHAPE_NAMES[shape]
    message = f"expected {expected} for {task.value}, got {got}"
    hint = None
    if shape == "object":
        hint = "wrap the object in a list"
    elif shape in SHAPE_TASK:
        hint = f"{SHAPE_TASK[shape].value} data?"
    if hint:
        message += f" ({hint})"
    return message


def parse_label(
    label: Any, task: Task, target: str, problems: LineProblems
) -> str | tuple[str, ...] | tuple[ObjectAnnotation, ...] | None:
    shape = label_shape(label)
    if not shape_matches(task, shape):
        problems.add(_wrong_shape_message(task, shape), target, label)
        return None
    if task is Task.CLASSIFICATION:
        name = _class_name(label)
        if name is None:
            problems.add("label must be a non-empty class name", target, label)
        return name
    if task is Task.CLASSIFICATION_MULTILABEL:
        names = [_class_name(item) for item in label]
        if any(n is None for n in names):
            problems.add("labels must be non-empty class names", target, label)
            return None
        # Keep the first occurrence of each label, in order.
        return tuple(dict.fromkeys(n for n in names if n is not None))
    objects = [_parse_object(obj, i, target, task, problems) for i, obj in enumerate(label)]
    if any(o is None for o in objects):
        return None
    return tuple(o for o in objects if o is not None)
