"""Streaming throughput: images/s read through the image cache, cold and warm, vs local files.

A set of JPEG images is read (fetched, decoded and turned into training tensors by the
classification pipeline's validation transform) three ways, in the same run:

* ``local``: the plain local paths (the baseline);
* ``stream cold``: as fsspec URLs (``local://`` by default, or ``--source`` prefix), with an
  empty streaming cache (``stream_image_files: true``), so every image is fetched;
* ``stream warm``: the same URLs again, every image now in the cache.

``--latency-ms`` adds a delay to every fetch, as a remote store would (cold reads are bounded
by the source; warm reads should not be). Prints images/s of each (median of ``--rounds``)
and the ratio warm / local (target >= 0.9), also paired per round (each warm pass against the
local passes just before and after it, which a drifting machine load does not skew).

Run:  python benchmarks/bench_streaming.py [--images 300] [--size 224] [--latency-ms 0]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def write_images(folder: Path, count: int, size: int) -> list[Path]:
    """``count`` noisy JPEG images of ``size`` px (noise: realistic decode cost and size)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        path = folder / f"{i:05d}.jpg"
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(path)
    return paths


def read_all(sources: list[str], transform) -> float:
    """Seconds to open and transform every image once."""
    from automl_nb.data import open_image

    start = time.perf_counter()
    for source in sources:
        transform(open_image(source))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--size", type=int, default=224, help="image side in pixels")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every fetch")
    args = parser.parse_args(argv)

    import torch

    from automl_nb.data import _images
    from automl_nb.data._cache import CACHE_DIR_ENV
    from automl_nb.data._cache import configure_image_cache
    from automl_nb.data._data_config import DataConfig
    from automl_nb.data._transforms import data_config_transform

    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="bench-streaming-"))
    os.environ[CACHE_DIR_ENV] = str(work / "cache")
    try:
        paths = write_images(work / "images", args.images, args.size)
        local = [str(p) for p in paths]
        urls = [f"local://{p}" for p in paths]
        size_mb = sum(p.stat().st_size for p in paths) / 2**20
        crop = min(224, args.size)
        transform = data_config_transform(
            DataConfig(validation_resize_size=crop, validation_crop_size=crop),
            train=False,
        )
        fetch = _images.fetch_bytes
        if args.latency_ms:

            def slow_fetch(path: str) -> bytes:
                time.sleep(args.latency_ms / 1000)
                return fetch(path)

            _images.fetch_bytes = slow_fetch  # the cache fetches through this name
        rates: dict[str, list[float]] = {"local": [], "stream cold": [], "stream warm": []}
        # Each round's warm pass against the local passes just before and after it: the
        # machine's load drifts between rounds more than the cache costs.
        paired: list[float] = []
        for _ in range(args.rounds):
            before = len(local) / read_all(local, transform)
            shutil.rmtree(work / "cache", ignore_errors=True)
            configure_image_cache(stream=True, expected=len(urls))
            rates["stream cold"].append(len(urls) / read_all(urls, transform))
            warm = len(urls) / read_all(urls, transform)
            after = len(local) / read_all(local, transform)
            rates["local"].extend([before, after])
            rates["stream warm"].append(warm)
            paired.append(warm / ((before + after) / 2))
        print(
            f"{args.images} JPEG images of {args.size} px ({size_mb:.1f} MB), "
            f"added fetch latency {args.latency_ms} ms, {args.rounds} rounds"
        )
        medians = {name: statistics.median(values) for name, values in rates.items()}
        for name, value in medians.items():
            print(f"{name:12s} {value:8.1f} images/s")
        print(
            f"ratio warm / local: {medians['stream warm'] / medians['local']:.3f} (target >= 0.9)"
        )
        print(f"ratio warm / local, paired per round (median): {statistics.median(paired):.3f}")
        print(f"ratio cold / local: {medians['stream cold'] / medians['local']:.3f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
