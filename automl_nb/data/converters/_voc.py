"""Pascal VOC XML folders (``Annotations/`` + ``JPEGImages/`` or ``annotations/`` + ``images/``).

Decisions:
* Coordinates are used as written (``topX = xmin / width``), as Azure's own VOC-to-JSONL
  conversion of the fridge data does; VOC's 1-based pixel convention is not shifted.
* ``<difficult>1</difficult>`` becomes ``isCrowd: 1``: both mean "do not count this object
  when scoring", which is how VOC's own evaluation treats difficult objects. Exporting writes
  crowd objects back as difficult.
* Images in the image folder without an XML file are background images.
"""

from __future__ import annotations

import math
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from automl_nb.data._records import ImageRecord
from automl_nb.data._records import LabeledImages
from automl_nb.data._records import ObjectAnnotation
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.tasks import Task

from ._common import image_size
from ._common import is_image_file
from ._common import list_images
from ._common import make_record
from ._common import normalised_box
from ._common import read_text
from ._common import unique_stems
from ._common import was_clipped
from ._registry import register_format
from ._registry import register_writer
from ._report import ConversionReport


def _first_dir(*candidates: Path) -> Path | None:
    return next((c for c in candidates if c.is_dir()), None)


def _xml_files(src: Path) -> tuple[Path, list[Path]]:
    xml_dir = _first_dir(src / "Annotations", src / "annotations", src / "Annotation", src)
    if xml_dir is None:
        raise DataError(Problem("no such folder", file=str(src)))
    files = sorted(p for p in xml_dir.rglob("*") if p.suffix.lower() == ".xml" and p.is_file())
    if not files:
        raise DataError(
            Problem(
                "no Pascal VOC .xml files found (looked in Annotations/, annotations/ and the folder)",
                file=str(src),
            )
        )
    return xml_dir, files


def _text(node: ET.Element | None, tag: str) -> str | None:
    child = node.find(tag) if node is not None else None
    return child.text.strip() if child is not None and child.text else None


def _number(node: ET.Element | None, tag: str) -> float | None:
    value = _text(node, tag)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class _Images:
    """Finds the image an XML file describes: by ``<filename>``, ``<path>`` or the XML's stem."""

    def __init__(self, src: Path, xml_dir: Path, images: Path | None):
        dirs = [images] if images else []
        dirs += [src / "JPEGImages", src / "images", src / "Images", xml_dir.parent / "JPEGImages"]
        dirs += [xml_dir.parent / "images", src, xml_dir]
        self.dirs = [d for d in dict.fromkeys(dirs) if d is not None and d.is_dir()]
        self.image_dir = self.dirs[0] if self.dirs else src
        by_stem: dict[str, Path] = {}
        by_name: dict[str, Path] = {}
        for d in self.dirs:
            for path in list_images(d, recursive=False):
                by_name.setdefault(path.name.lower(), path)
                by_stem.setdefault(path.stem.lower(), path)
        self.by_name, self.by_stem = by_name, by_stem

    def find(self, xml: Path, root: ET.Element) -> Path | None:
        filename = (_text(root, "filename") or "").replace("\\", "/")
        written_path = (_text(root, "path") or "").replace("\\", "/")
        if filename:
            for d in self.dirs:
                if (d / filename).is_file() and is_image_file(d / filename):
                    return d / filename
        if written_path:
            candidate = Path(written_path)
            if not candidate.is_absolute():
                candidate = xml.parent / candidate
            if candidate.is_file():
                return candidate
        for key in (Path(filename).name, Path(written_path).name):
            if key and key.lower() in self.by_name:
                return self.by_name[key.lower()]
        for key in (Path(filename).stem, Path(filename).name, xml.stem):
            if key and key.lower() in self.by_stem:
                return self.by_stem[key.lower()]
        return None


@register_format(
    "voc",
    description="Pascal VOC XML folder (annotations + images)",
    tasks=(Task.OBJECT_DETECTION,),
)
def read_voc(
    src: str | os.PathLike[str],
    *,
    report: ConversionReport,
    images: str | os.PathLike[str] | None = None,
    **_: Any,
) -> LabeledImages:
    """Read a Pascal VOC folder: one XML file per image, boxes in pixels.

    Args:
        src: The dataset folder (with ``Annotations/``/``annotations/``) or the XML folder.
        report: Filled with skipped items and notes.
        images: The image folder (default: ``JPEGImages/``, ``images/`` or next to the XML).
    """
    src = Path(src)
    xml_dir, xml_files = _xml_files(src)
    finder = _Images(src, xml_dir, Path(images) if images else None)
    records: list[ImageRecord] = []
    used: set[Path] = set()
    for xml in xml_files:
        try:
            root = ET.fromstring(read_text(xml).lstrip())
        except ET.ParseError as exc:
            report.skip("invalid XML", f"{xml.name}: {exc}")
            continue
        if root.tag != "annotation":
            report.skip("XML file that is not a VOC <annotation>", xml.name)
            continue
        path = finder.find(xml, root)
        if path is None:
            report.skip("label file without image", xml.name)
            continue
        if path.resolve() in used:
            report.skip("second XML file for the same image", xml.name)
            continue
        written = Path((_text(root, "filename") or "").replace("\\", "/")).name
        if written and written.lower() != path.name.lower():
            report.note("images matched by the XML file's name, not by its <filename>")
        try:
            width, height = image_size(path)
        except OSError:
            report.skip("unreadable image", path.name)
            continue
        size = root.find("size")
        ann_w = _number(size, "width") or width
        ann_h = _number(size, "height") or height
        if not (math.isfinite(ann_w) and math.isfinite(ann_h)) or ann_w <= 0 or ann_h <= 0:
            raise DataError(
                Problem(
                    "<size> width and height must be positive numbers",
                    file=str(xml),
                    path="size",
                    value=repr((ann_w, ann_h)),
                )
            )
        if (int(ann_w), int(ann_h)) != (width, height):
            report.note("XML <size> differs from the image file (XML size used for boxes)")
        objects = []
        for index, obj in enumerate(root.findall("object")):  # <part>s are not objects
            parsed = _object(obj, ann_w, ann_h, report, xml, index)
            if parsed is not None:
                objects.append(parsed)
        used.add(path.resolve())
        records.append(make_record(path, tuple(objects), width, height))
    for path in list_images(finder.image_dir, recursive=False):
        if path.resolve() not in used:
            records.append(make_record(path, (), *image_size(path)))
            report.note("images without an XML file kept as background images")
    return LabeledImages(task=Task.OBJECT_DETECTION, records=records, source=str(src))


def _object(
    obj: ET.Element, width: float, height: float, report: ConversionReport, xml: Path, index: int
):
    where = xml.name
    name = _text(obj, "name")
    bndbox = obj.find("bndbox")
    if not name:
        report.skip("object without <name>", where)
        return None
    coords = [_number(bndbox, tag) for tag in ("xmin", "ymin", "xmax", "ymax")]
    if bndbox is None or any(c is None for c in coords):
        report.skip("object without a complete <bndbox>", where)
        return None
    x0, y0, x1, y1 = (float(c or 0.0) for c in coords)
    try:
        box = normalised_box(x0, y0, x1, y1, width, height)
    except ValueError as exc:
        raise DataError(
            Problem(str(exc), file=str(xml), line=obj_line(xml, index), path=f"object[{index}]")
        ) from None
    if box is not None and was_clipped(x0, y0, x1, y1, width, height):
        report.note("boxes reaching outside the image clipped to it")
    if box is None:
        report.skip("object with an empty or outside box", where)
        return None
    flag = (_text(obj, "difficult") or "0").strip().lower()
    if flag not in ("0", "1", "true", "false"):
        raise DataError(
            Problem(
                f"<difficult> must be 0 or 1 (got {flag!r})",
                file=str(xml),
                line=obj_line(xml, index),
                path=f"object[{index}].difficult",
            )
        )
    return ObjectAnnotation(name, *box, is_crowd=flag in ("1", "true"))


def obj_line(xml: Path, index: int) -> int | None:
    """The line of the ``index``-th ``<object>`` of an XML file (for error messages)."""
    lines = read_text(xml).split("\n")
    found = [n for n, line in enumerate(lines, start=1) if "<object" in line]
    return found[index] if index < len(found) else None


def _place_image(source: Path, target: Path) -> None:
    if target.exists():
        return
    try:
        os.link(source, target)  # same file system: no copy needed
    except OSError:
        shutil.copy2(source, target)


@register_writer("voc")
def write_voc(
    data: LabeledImages, out: str | os.PathLike[str], *, copy_images: bool = True, **_: Any
) -> Path:
    """Write detection records as a VOC folder: ``Annotations/*.xml`` and ``JPEGImages/``.

    Args:
        data: Detection (or instance-segmentation; polygons are dropped) records.
        out: Output folder.
        copy_images: Put the images in ``JPEGImages/`` (hard links where possible); with
            False, ``<path>`` points at the original file, relative to the XML.

    Returns:
        The output folder.
    """
    if not data.task.is_detection:
        raise DataError(Problem(f"VOC export needs detection data, not {data.task}"))
    out_dir = Path(out)
    ann_dir, img_dir = out_dir / "Annotations", out_dir / "JPEGImages"
    ann_dir.mkdir(parents=True, exist_ok=True)
    if copy_images:
        img_dir.mkdir(parents=True, exist_ok=True)
    stems = unique_stems([r.path for r in data.records])
    for record, stem in zip(data.records, stems):
        source = Path(record.path)
        width, height = record.width, record.height
        if not width or not height:
            width, height = image_size(source)
        filename = stem + source.suffix
        if copy_images:
            _place_image(source, img_dir / filename)
            path_text = f"../JPEGImages/{filename}"
        else:
            path_text = os.path.relpath(source.resolve(), ann_dir.resolve()).replace(os.sep, "/")
        root = ET.Element("annotation")
        ET.SubElement(root, "folder").text = "JPEGImages"
        ET.SubElement(root, "filename").text = filename if copy_images else source.name
        ET.SubElement(root, "path").text = path_text
        size = ET.SubElement(root, "size")
        for tag, value in (("width", width), ("height", height), ("depth", 3)):
            ET.SubElement(size, tag).text = str(value)
        ET.SubElement(root, "segmented").text = "0"
        for obj in record.objects:
            node = ET.SubElement(root, "object")
            ET.SubElement(node, "name").text = obj.label
            ET.SubElement(node, "pose").text = "Unspecified"
            ET.SubElement(node, "truncated").text = "0"
            ET.SubElement(node, "difficult").text = str(int(obj.is_crowd))
            box = ET.SubElement(node, "bndbox")
            values = (
                obj.top_x * width,
                obj.top_y * height,
                obj.bottom_x * width,
                obj.bottom_y * height,
            )
            for tag, corner in zip(("xmin", "ymin", "xmax", "ymax"), values):
                ET.SubElement(box, tag).text = str(round(corner))
        ET.indent(root)
        ET.ElementTree(root).write(ann_dir / f"{stem}.xml", encoding="utf-8")
    return out_dir
