"""Generate the SYNTHETIC instance-segmentation demo set ("shapes").

No permissively licensed real instance-mask set small enough to ship was available, so the
instance-segmentation demo trains on generated images: filled rectangles, ellipses and
triangles in random colours on a noisy background, each with its exact polygon. The class is
the shape, not the colour.

Usage::

    python examples/data/make_synthetic_shapes.py [OUT_DIR] [--train N] [--validation N]

Writes ``OUT_DIR/images/*.png``, ``train.jsonl`` and ``validation.jsonl`` (default
``examples/data/syntheticShapes``). Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

from PIL import Image
from PIL import ImageDraw

HERE = Path(__file__).resolve().parent
CLASSES = ("ellipse", "rectangle", "triangle")


def _polygon(shape: str, x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    if shape == "rectangle":
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    if shape == "triangle":
        return [((x0 + x1) / 2, y0), (x1, y1), (x0, y1)]
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    return [
        (cx + rx * math.cos(2 * math.pi * k / 20), cy + ry * math.sin(2 * math.pi * k / 20))
        for k in range(20)
    ]


def make_image(rng: random.Random, size: int) -> tuple[Image.Image, list[dict]]:
    """One image and its Azure instance-segmentation label list."""
    base = rng.randint(20, 90)
    image = Image.new("RGB", (size, size), (base, base, base))
    draw = ImageDraw.Draw(image)
    for _ in range(size * 2):  # speckle noise
        x, y = rng.randrange(size), rng.randrange(size)
        grey = rng.randint(0, 140)
        draw.point((x, y), fill=(grey, grey, grey))
    objects = []
    for _ in range(rng.randint(1, 3)):
        shape = rng.choice(CLASSES)
        w, h = rng.uniform(0.2, 0.45) * size, rng.uniform(0.2, 0.45) * size
        x0, y0 = rng.uniform(0, size - w), rng.uniform(0, size - h)
        points = [(round(px), round(py)) for px, py in _polygon(shape, x0, y0, x0 + w, y0 + h)]
        colour = tuple(rng.randint(120, 255) for _ in range(3))
        draw.polygon(points, fill=colour)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        objects.append(
            {
                "label": shape,
                "topX": min(xs) / size,
                "topY": min(ys) / size,
                "bottomX": max(xs) / size,
                "bottomY": max(ys) / size,
                "isCrowd": 0,
                "polygon": [[round(v / size, 4) for p in points for v in p]],
            }
        )
    return image, objects


def generate(out: Path, *, train: int = 40, validation: int = 12, size: int = 96, seed: int = 0):
    """Write the dataset; returns the two JSONL paths."""
    rng = random.Random(seed)
    (out / "images").mkdir(parents=True, exist_ok=True)
    paths = []
    counter = 0
    for split, count in (("train", train), ("validation", validation)):
        lines = []
        for _ in range(count):
            image, objects = make_image(rng, size)
            rel = f"images/{counter:03d}.png"
            image.save(out / rel, optimize=True)
            details = {"format": "png", "width": f"{size}px", "height": f"{size}px"}
            lines.append({"image_url": rel, "image_details": details, "label": objects})
            counter += 1
        path = out / f"{split}.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        paths.append(path)
    return tuple(paths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(HERE / "syntheticShapes"))
    parser.add_argument("--train", type=int, default=40)
    parser.add_argument("--validation", type=int, default=12)
    args = parser.parse_args()
    generate(Path(args.out), train=args.train, validation=args.validation)


if __name__ == "__main__":
    main()
