"""Tests of open_image (every pixel mode, EXIF, URLs) and check_images."""

from __future__ import annotations

import io
from pathlib import Path

import fsspec
import pytest
from PIL import Image

from automl_nb.data import check_images
from automl_nb.data import image_size
from automl_nb.data import open_image
from automl_nb.data import read_jsonl
from automl_nb.errors import DataError
from automl_nb.testing.datasets import make_classification_jsonl
from automl_nb.testing.datasets import write_image
from automl_nb.testing.datasets import write_lines
from tests.conftest import shared_dataset


@pytest.mark.parametrize(
    ("mode", "suffix"),
    [
        ("RGB", "png"),
        ("L", "png"),
        ("P", "png"),
        ("RGBA", "png"),
        ("CMYK", "jpg"),
        ("I;16", "png"),
        ("1", "bmp"),
        ("LA", "png"),
        ("RGB", "tif"),
        ("F", "tif"),
    ],
)
def test_open_image_converts_every_mode_to_rgb(tmp_path: Path, mode: str, suffix: str) -> None:
    path = write_image(tmp_path / f"x.{suffix}", size=(20, 10), color=(200, 200, 200), mode=mode)
    if mode == "I;16":
        assert Image.open(path).mode == "I;16"
    image = open_image(path)
    assert image.mode == "RGB" and image.size == (20, 10)
    r, g, b = image.getpixel((5, 5))
    assert r == g == b or mode in ("RGB", "P", "RGBA", "CMYK")
    # Brightness survives the conversion (16-bit is scaled down, not clipped to white).
    assert 150 < r < 256 or mode == "1"


def test_sixteen_bit_values_are_scaled(tmp_path: Path) -> None:
    path = tmp_path / "depth.png"
    Image.new("I;16", (4, 4), 32768).save(path)
    assert open_image(path).getpixel((0, 0)) == (128, 128, 128)


def test_palette_with_transparency(tmp_path: Path) -> None:
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.info["transparency"] = 0
    path = tmp_path / "t.png"
    image.save(path, transparency=0)
    assert open_image(path).getpixel((2, 2)) == (255, 0, 0)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    image = Image.new("RGB", (40, 20), (10, 200, 10))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees when shown
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif)
    assert open_image(path).size == (20, 40)
    assert image_size(path) == (20, 40)


def test_open_image_from_fsspec_and_file_urls(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("L", (6, 5), 90).save(buffer, format="PNG")
    with fsspec.open("memory://automl-nb-tests/a.png", "wb") as fh:
        fh.write(buffer.getvalue())
    assert open_image("memory://automl-nb-tests/a.png").size == (6, 5)
    assert image_size("memory://automl-nb-tests/a.png") == (6, 5)
    path = write_image(tmp_path / "b.png", size=7)
    assert open_image(f"file://{path}").size == (7, 7)
    with pytest.raises(DataError, match="image not found"):
        open_image("memory://automl-nb-tests/missing.png")


def test_open_image_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="image not found") as info:
        open_image(tmp_path / "missing.jpg")
    assert info.value.problems[0].file == str(tmp_path / "missing.jpg")
    (tmp_path / "text.jpg").write_text("not an image")
    with pytest.raises(DataError, match="not an image file"):
        open_image(tmp_path / "text.jpg")
    with pytest.raises(DataError, match="folder"):
        open_image(tmp_path)
    truncated = write_image(tmp_path / "big.png", size=64)
    truncated.write_bytes(truncated.read_bytes()[:60])
    with pytest.raises(DataError, match="cannot decode image"):
        open_image(truncated)


def test_check_images_locates_missing_and_broken_files(tmp_path: Path) -> None:
    good = write_image(tmp_path / "good.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (tmp_path / "folder.png").mkdir()
    lines = [
        {"image_url": "good.png", "label": "a"},
        {"image_url": "missing.png", "label": "a"},
        {"image_url": "broken.png", "label": "b"},
        {"image_url": "folder.png", "label": "b"},
    ]
    path = write_lines(tmp_path / "d.jsonl", lines)
    data = read_jsonl(path, "image_classification")
    problems = check_images(data, workers=4)
    assert [(p.file, p.line) for p in problems] == [(str(path), 2), (str(path), 3), (str(path), 4)]
    assert problems[0].message == "image file not found" and problems[0].path == "image_url"
    assert "missing.png" in problems[0].value
    assert check_images(data.subset([0])) == [] and good.exists()


def test_check_images_decode_catches_truncated_jpeg(tmp_path: Path) -> None:
    path = make_classification_jsonl(tmp_path, n=3, size=64, image_format="jpg")
    data = read_jsonl(path, "image_classification")
    target = Path(data[1].path)
    target.write_bytes(target.read_bytes()[:300])
    assert check_images(data, decode=True)[0].line == 2


def test_check_images_on_real_data_is_clean(tmp_path: Path) -> None:
    root = shared_dataset("coco128_seg_val") / "images"
    lines = [{"image_url": str(p), "label": []} for p in sorted(root.glob("*.jpg"))[:40]]
    data = read_jsonl(write_lines(tmp_path / "d.jsonl", lines), "image_object_detection")
    assert check_images(data) == []
    modes = {open_image(r.path).mode for r in data}
    assert modes == {"RGB"}
