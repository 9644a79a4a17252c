"""YOLO and YOLO-seg text labels (one ``.txt`` per image) with a class-names file, both ways.

Each line is ``class cx cy w h`` (a box) or ``class x1 y1 x2 y2 ...`` (a polygon), normalised;
the kind is decided per line. Class names come from ``classes.txt``/``obj.names`` (one per
line, the line index is the id) or a data YAML whose ``names`` is a list or an ``{id: name}``
mapping, so ids may have gaps. Images without a label file (or with an empty one) are
background images; label files without an image are counted and skipped.
"""

from __future__ import annotations

import math
import os
import re
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
from ._common import clamp01
from ._common import clean_polygon
from ._common import image_size
from ._common import list_images
from ._common import make_record
from ._common import read_text
from ._common import unique_stems
from ._registry import register_format
from ._registry import register_writer
from ._report import ConversionReport
from ._voc import _place_image

_NAME_FILES = ("classes.txt", "obj.names", "classes.names", "coco.names", "_darknet.labels")
_YAML_FILES = ("data.yaml", "dataset.yaml", "config.yaml", "data.yml", "dataset.yml")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _load_yaml(text: str, path: Path) -> Any:
    """A data YAML's content, loaded within the limits of :func:`compose_bounded`."""
    import yaml

    from automl_nb.config._yaml import compose_bounded

    try:
        return compose_bounded(text)[1]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataError(
            Problem(
                f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
                file=str(path),
                line=mark.line + 1 if mark else None,
            )
        ) from None


def read_names(path: str | os.PathLike[str]) -> dict[int, str]:
    """Class id -> name from a names file: a YAML with ``names`` or one name per line.

    Raises:
        DataError: The file has no usable names.
    """
    path = Path(path)
    text = read_text(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        doc = _load_yaml(text, path)
        names = doc.get("names") if isinstance(doc, dict) else None
        if isinstance(names, list):
            return {i: str(n) for i, n in enumerate(names)}
        if isinstance(names, dict):
            try:
                return {int(k): str(v) for k, v in names.items()}
            except (TypeError, ValueError):
                pass
        raise DataError(
            Problem(
                "expected 'names' as a list or an {id: name} mapping", file=str(path), path="names"
            )
        )
    lines = [line.strip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise DataError(Problem("the class-names file is empty", file=str(path)))
    return {i: name for i, name in enumerate(lines) if name}


def _find_names(src: Path) -> Path | None:
    folders = [src, src.parent] if src.is_dir() else [src.parent]
    for folder in folders:
        for name in _NAME_FILES + _YAML_FILES:
            if (folder / name).is_file():
                return folder / name
        for pattern in ("*.names", "*.yaml", "*.yml"):
            for candidate in sorted(folder.glob(pattern)):
                if candidate.suffix == ".names" or "names:" in read_text(candidate):
                    return candidate
    return None


def _image_dirs_from_yaml(yaml_path: Path) -> list[Path]:

    doc = _load_yaml(read_text(yaml_path), yaml_path)
    if not isinstance(doc, dict):
        return []
    base = yaml_path.parent / str(doc.get("path") or ".")
    dirs: list[Path] = []
    for key in ("train", "val", "test"):
        values = doc.get(key)
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, str) and (base / value).is_dir():
                dirs.append((base / value).resolve())
    return list(dict.fromkeys(dirs))


def _label_candidates(image: Path, image_root: Path, src: Path) -> list[Path]:
    parts = list(image.parts)
    out = []
    if "images" in parts:  # Ultralytics rule: the last /images/ becomes /labels/
        i = len(parts) - 1 - parts[::-1].index("images")
        out.append(Path(*parts[:i], "labels", *parts[i + 1 :]).with_suffix(".txt"))
    out.append(image.with_suffix(".txt"))
    rel = image.relative_to(image_root) if image.is_relative_to(image_root) else Path(image.name)
    out += [(src / "labels" / rel).with_suffix(".txt"), src / "labels" / f"{image.stem}.txt"]
    # SRC may be the label folder itself, with the images elsewhere (--images)
    out += [(src / rel).with_suffix(".txt"), src / f"{image.stem}.txt"]
    return out


def _is_label_file(path: Path) -> bool:
    if path.name.lower() in _NAME_FILES or path.name.lower().startswith("readme"):
        return False
    for line in read_text(path).split("\n"):
        if line.strip():
            return bool(_NUMBER.match(line.split()[0]))
    return True  # an empty file is an empty label file


@register_format(
    "yolo",
    description="YOLO / YOLO-seg .txt labels with classes.txt, obj.names or a data YAML",
    tasks=(Task.OBJECT_DETECTION, Task.INSTANCE_SEGMENTATION),
)
def read_yolo(
    src: str | os.PathLike[str],
    *,
    report: ConversionReport,
    images: str | os.PathLike[str] | None = None,
    names: str | os.PathLike[str] | None = None,
    **_: Any,
) -> LabeledImages:
    """Read a YOLO dataset folder (``images/`` + ``labels/``, or ``.txt`` next to each image).

    Args:
        src: Dataset folder, or its data YAML (its ``train``/``val``/``test`` folders are read).
        report: Filled with skipped items and notes.
        images: Image folder (default: the YAML's folders, else ``src`` searched recursively).
        names: Class-names file (default: found in ``src`` or its parent).
    """
    src = Path(src)
    if not src.exists():
        raise DataError(Problem("no such file or folder", file=str(src)))
    root = src.parent if src.is_file() else src
    names_path = Path(names) if names else (src if src.is_file() else _find_names(src))
    id_to_name = read_names(names_path) if names_path else {}
    if names_path is None:
        report.note("no class-names file found: class ids used as class names")
    if images:
        image_dirs = [Path(images)]
    elif src.is_file() or (names_path and names_path.suffix.lower() in (".yaml", ".yml")):
        image_dirs = _image_dirs_from_yaml(src if src.is_file() else names_path) or [root]  # type: ignore[arg-type]
    else:
        image_dirs = [root]
    image_paths = list(dict.fromkeys(p for d in image_dirs for p in list_images(d)))
    if not image_paths:
        raise DataError(Problem("no images found", file=str(image_dirs[0])))

    used_labels: set[Path] = set()
    records: list[ImageRecord] = []
    for image in image_paths:
        image_root = next(d for d in image_dirs if image.is_relative_to(d))
        label_path = next(
            (c for c in _label_candidates(image, image_root, root) if c.is_file()), None
        )
        try:
            width, height = image_size(image)
        except OSError:
            report.skip("unreadable image", image.name)
            if label_path is not None:
                used_labels.add(label_path.resolve())
            continue
        objects: tuple[ObjectAnnotation, ...] = ()
        if label_path is not None:
            used_labels.add(label_path.resolve())
            objects = _parse_label_file(label_path, id_to_name, width, height, report)
        records.append(make_record(image, objects, width, height))

    for candidate in sorted(root.rglob("*.txt")):
        if candidate.resolve() not in used_labels and _is_label_file(candidate):
            report.skip("label file without image", candidate.name)
    task = natural_task(records, Task.OBJECT_DETECTION)
    return LabeledImages(task=task, records=records, source=str(src))


def _parse_label_file(
    path: Path, id_to_name: dict[int, str], width: int, height: int, report: ConversionReport
) -> tuple[ObjectAnnotation, ...]:
    objects: list[ObjectAnnotation] = []
    seen: set[tuple[str, ...]] = set()
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        tokens = line.replace(",", " ").split()
        if not tokens:
            continue
        where = f"{path.name}:{number}"
        try:
            values = [float(t) for t in tokens[1:]]
            float(tokens[0])
        except ValueError:
            report.skip("malformed label line", where)
            continue
        class_id = _class_id(tokens[0], path, number)
        bad = next((t for t, v in zip(tokens[1:], values) if not math.isfinite(v)), None)
        if bad is not None:
            raise DataError(
                Problem(
                    "coordinates must be finite numbers",
                    file=str(path),
                    line=number,
                    path="coordinates",
                    value=repr(bad),
                )
            )
        if tuple(tokens) in seen:
            report.note("duplicate label lines removed")
            continue
        seen.add(tuple(tokens))
        if class_id in id_to_name:
            name = id_to_name[class_id]
        elif not id_to_name:
            name = str(class_id)
        else:
            report.skip("class id not in the names file", f"{where} (id {class_id})")
            continue
        if values and max(values) > 1.5:  # pixel coordinates written by some tools
            report.note("pixel coordinates normalised by the image size")
            values = [v / (width if i % 2 == 0 else height) for i, v in enumerate(values)]
        obj = _object(name, values)
        if obj is None:
            report.skip("malformed or empty box/polygon", where)
        else:
            objects.append(obj)
    return tuple(objects)


def _class_id(token: str, path: Path, line: int) -> int:
    """The class id of a label line: an integer (``3`` or ``3.0``), never rounded."""
    value = float(token)
    if not value.is_integer() or value < 0:
        raise DataError(
            Problem(
                "class id must be a non-negative integer",
                file=str(path),
                line=line,
                path="class",
                value=repr(token),
            )
        )
    return int(value)


def _object(name: str, values: list[float]) -> ObjectAnnotation | None:
    if len(values) in (4, 5):  # a box; a 5th value is a prediction score
        cx, cy, w, h = values[:4]
        box = (clamp01(cx - w / 2), clamp01(cy - h / 2), clamp01(cx + w / 2), clamp01(cy + h / 2))
        if box[2] <= box[0] or box[3] <= box[1]:
            return None
        return ObjectAnnotation(name, *box)
    if len(values) >= 6 and len(values) % 2 == 0:
        polygon = clean_polygon(values)
        return annotation_from_polygons(name, (polygon,)) if polygon else None
    return None


@register_writer("yolo")
def write_yolo(data: LabeledImages, out: str | os.PathLike[str], **_: Any) -> Path:
    """Write detection (box lines) or instance-segmentation (polygon lines) records as YOLO.

    Writes ``images/`` (hard links or copies), ``labels/*.txt``, ``classes.txt`` and a
    ``data.yaml`` with ``names``. Class ids are 0..K-1 in ``data.labels`` order. An object
    with several polygon segments is written as one polygon through all of them; YOLO has
    no crowd flag, so crowd objects are written as ordinary ones.

    Returns:
        The output folder.
    """
    if not data.task.is_detection:
        raise DataError(Problem(f"YOLO export needs detection data, not {data.task}"))
    import yaml

    out_dir = Path(out)
    img_dir, lbl_dir = out_dir / "images", out_dir / "labels"
    lbl_dir.mkdir(parents=True, exist_ok=True)
    img_dir.mkdir(parents=True, exist_ok=True)
    ids = {name: i for i, name in enumerate(data.labels)}
    seg = data.task is Task.INSTANCE_SEGMENTATION
    for record, stem in zip(data.records, unique_stems([r.path for r in data.records])):
        source = Path(record.path)
        _place_image(source, img_dir / f"{stem}{source.suffix}")
        lines = []
        for obj in record.objects:
            if seg and obj.polygon:
                coords = [v for segment in obj.polygon for v in segment]
            else:
                w, h = obj.bottom_x - obj.top_x, obj.bottom_y - obj.top_y
                coords = [obj.top_x + w / 2, obj.top_y + h / 2, w, h]
            lines.append(" ".join([str(ids[obj.label])] + [f"{v:.6f}" for v in coords]))
        (lbl_dir / f"{stem}.txt").write_text(
            "".join(line + "\n" for line in lines), encoding="utf-8"
        )
    (out_dir / "classes.txt").write_text("".join(n + "\n" for n in data.labels), encoding="utf-8")
    doc = {"path": ".", "train": "images", "val": "images", "names": dict(enumerate(data.labels))}
    (out_dir / "data.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out_dir
