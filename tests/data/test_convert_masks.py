"""Instance-id masks -> polygons: outlines, names from PASCAL text, odd masks."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from automl_nb.data import read_jsonl
from automl_nb.data.converters import convert
from automl_nb.data.converters import mask_to_polygons
from automl_nb.data.converters import read_format
from automl_nb.data.converters import read_pascal_text
from automl_nb.errors import DataError
from automl_nb.tasks import Task

W, H = 40, 30


def _polygon_area(flat):
    xs, ys = flat[0::2], flat[1::2]
    return abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs)))) / 2


def test_mask_to_polygons_follows_pixel_edges():
    mask = np.zeros((H, W), dtype=bool)
    mask[5:15, 10:30] = True  # 20 x 10 pixels
    (polygon,) = mask_to_polygons(mask)
    xs, ys = polygon[0::2], polygon[1::2]
    assert (min(xs), max(xs), min(ys), max(ys)) == pytest.approx((10, 30, 5, 15), abs=0.5)
    # simplification (1 px tolerance) may cut a little; without it only the corners are cut
    assert 180 <= _polygon_area(polygon) <= 200
    (exact,) = mask_to_polygons(mask, tolerance=0)
    assert _polygon_area(exact) == pytest.approx(200, abs=0.5)


def test_mask_to_polygons_gives_one_segment_per_part():
    mask = np.zeros((H, W), dtype=bool)
    mask[2:6, 2:6] = True
    mask[20:28, 25:35] = True
    assert len(mask_to_polygons(mask)) == 2
    assert mask_to_polygons(np.zeros((4, 4))) == []


PASCAL = """# Compatible with PASCAL Annotation Version 1.00
Image filename : "x/PNGImages/p1.png"
Objects with ground truth : 2 { "PASpersonWalking" "PASpersonStanding" }
Bounding box for object 1 "PASpersonWalking" (Xmin, Ymin) - (Xmax, Ymax) : (3, 3) - (12, 20)
Bounding box for object 2 "PASpersonStanding" (Xmin, Ymin) - (Xmax, Ymax) : (21, 6) - (35, 25)
"""


@pytest.fixture()
def masks_dir(tmp_path):
    root = tmp_path / "peds"
    (root / "PNGImages").mkdir(parents=True)
    (root / "PedMasks").mkdir()
    (root / "Annotation").mkdir()
    for name in ("p1", "p2", "p3", "p4"):
        pixels = np.random.default_rng(int(name[1])).integers(0, 255, (H, W, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "PNGImages" / f"{name}.png")
    ids = np.zeros((H, W), dtype=np.uint8)
    ids[2:20, 2:12] = 1
    ids[5:25, 20:35] = 2
    Image.fromarray(ids, mode="L").save(root / "PedMasks" / "p1_mask.png")
    palette = Image.fromarray(np.where(ids == 2, 1, 0).astype(np.uint8), mode="P")
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    palette.save(root / "PedMasks" / "p2_mask.png")
    Image.fromarray(ids * 0, mode="L").save(root / "PedMasks" / "p3_mask.png")  # background
    Image.fromarray(ids, mode="L").save(root / "PedMasks" / "lost_mask.png")
    (root / "Annotation" / "p1.txt").write_text(PASCAL.replace("\n", "\r\n"))
    return root


def test_masks_to_polygons_with_pascal_names(masks_dir, tmp_path):
    report = convert("masks", masks_dir, tmp_path / "seg.jsonl")
    assert report.task is Task.INSTANCE_SEGMENTATION
    assert (report.images, report.objects, report.background_images) == (3, 3, 1)
    assert report.per_class == {"PASpersonStanding": 1, "PASpersonWalking": 1, "object": 1}
    assert report.skipped == {"mask without image": 1, "image without a mask": 1}
    data = read_jsonl(tmp_path / "seg.jsonl", Task.INSTANCE_SEGMENTATION)
    p1 = next(r for r in data if r.path.endswith("p1.png"))
    walking, standing = p1.label
    assert walking.label == "PASpersonWalking"
    assert walking.box == pytest.approx((2 / W, 2 / H, 12 / W, 20 / H))
    assert standing.box == pytest.approx((20 / W, 5 / H, 35 / W, 25 / H))


def test_masks_label_option_and_detection(masks_dir):
    data, _ = read_format("masks", masks_dir, label="person", task="image_object_detection")
    assert data.labels == ["person"] and data.task is Task.OBJECT_DETECTION
    assert all(not o.polygon for r in data for o in r.label)


def test_masks_need_image_and_mask_folders(tmp_path):
    (tmp_path / "images").mkdir()
    with pytest.raises(DataError, match="mask folder"):
        read_format("masks", tmp_path)


def test_read_pascal_text(tmp_path):
    (tmp_path / "a.txt").write_text(PASCAL)
    assert read_pascal_text(tmp_path / "a.txt") == [
        ("PASpersonWalking", (3.0, 3.0, 12.0, 20.0)),
        ("PASpersonStanding", (21.0, 6.0, 35.0, 25.0)),
    ]
