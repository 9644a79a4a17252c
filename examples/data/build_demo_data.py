"""Rebuild the bundled demo data from the fridge datasets (kept small: downscaled JPEGs).

Usage::

    python examples/data/build_demo_data.py SOURCE_DIR

``SOURCE_DIR`` holds ``fridgeObjects/thumbnails_150/<class>/<n>.jpg`` (the multi-class set) and
``odFridgeObjects/{images/<n>.jpg, annotations/<n>.xml, labels_multilabel_derived.csv}``
(the detection set and its multi-label view). Writes, next to this script:

* ``fridgeObjects/`` - 134 images (longer side 96 px), ``train.jsonl`` / ``validation.jsonl``
  (multi-class; every 5th image of each class is validation);
* ``odFridgeObjects/`` - 128 images (longer side 128 px), ``detection_{train,validation}.jsonl``
  and ``multilabel_{train,validation}.jsonl`` (every 5th image is validation).

The instance-segmentation demo uses synthetic data instead: see ``make_synthetic_shapes.py``.
"""

from __future__ import annotations

import csv
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent


def _downscale(src: Path, dst: Path, longest: int) -> tuple[int, int]:
    image = Image.open(src).convert("RGB")
    scale = longest / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.LANCZOS)
    dst.parent.mkdir(parents=True, exist_ok=True)
    image.save(dst, format="JPEG", quality=85, optimize=True)
    return size


def _details(size: tuple[int, int]) -> dict[str, str]:
    return {"format": "jpg", "width": f"{size[0]}px", "height": f"{size[1]}px"}


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def build_classification(source: Path) -> None:
    out = HERE / "fridgeObjects"
    train, valid = [], []
    root = source / "fridgeObjects" / "thumbnails_150"
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted(class_dir.glob("*.jpg"), key=lambda p: int(p.stem))
        for i, src in enumerate(files):
            rel = f"images/{class_dir.name}_{src.stem}.jpg"
            size = _downscale(src, out / rel, 96)
            row = {"image_url": rel, "image_details": _details(size), "label": class_dir.name}
            (valid if i % 5 == 4 else train).append(row)
    _write(out / "train.jsonl", train)
    _write(out / "validation.jsonl", valid)


def build_detection(source: Path) -> None:
    src_root = source / "odFridgeObjects"
    out = HERE / "odFridgeObjects"
    multilabel = {}
    with (src_root / "labels_multilabel_derived.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            multilabel[row["filename"]] = sorted(row["labels"].split())
    det = {"train": [], "validation": []}
    ml = {"train": [], "validation": []}
    xmls = sorted((src_root / "annotations").glob("*.xml"), key=lambda p: int(p.stem))
    for i, xml in enumerate(xmls):
        tree = ET.parse(xml).getroot()
        name = tree.findtext("filename")
        width = float(tree.findtext("size/width"))
        height = float(tree.findtext("size/height"))
        rel = f"images/{name}"
        size = _downscale(src_root / "images" / name, out / rel, 128)
        objects = []
        for obj in tree.findall("object"):
            box = obj.find("bndbox")
            objects.append(
                {
                    "label": obj.findtext("name"),
                    "topX": round(float(box.findtext("xmin")) / width, 4),
                    "topY": round(float(box.findtext("ymin")) / height, 4),
                    "bottomX": round(float(box.findtext("xmax")) / width, 4),
                    "bottomY": round(float(box.findtext("ymax")) / height, 4),
                    "isCrowd": 0,
                }
            )
        split = "validation" if i % 5 == 4 else "train"
        det[split].append({"image_url": rel, "image_details": _details(size), "label": objects})
        ml[split].append(
            {"image_url": rel, "image_details": _details(size), "label": multilabel[name]}
        )
    for split in ("train", "validation"):
        _write(out / f"detection_{split}.jsonl", det[split])
        _write(out / f"multilabel_{split}.jsonl", ml[split])


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    source = Path(argv[0])
    build_classification(source)
    build_detection(source)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
