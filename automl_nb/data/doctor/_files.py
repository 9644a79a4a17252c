"""One pass over the image files: decodability, true size and mode, exact and perceptual hashes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# dHash side: 8 x 8 = 64 bits. On the fridge photos a re-scaled copy (150 px thumbnail vs the
# 499 px original) is at distance 0-2, while distinct shots of the same fridge are >= 3.
HASH_SIZE = 8


@dataclass(frozen=True)
class FileInfo:
    """What the doctor learnt from one image file.

    Attributes:
        path: The file.
        error: ``None`` for a good image, else ``"missing"`` or why it cannot be decoded.
        width, height: True pixel size from the file.
        mode: PIL mode (``RGB``, ``L``, ``P``, ``RGBA``, ...).
        sha1: Hash of the file bytes (exact duplicates).
        dhash: 64-bit difference hash of the picture (near duplicates).
    """

    path: str
    error: str | None = None
    width: int | None = None
    height: int | None = None
    mode: str | None = None
    sha1: str | None = None
    dhash: int | None = None


def inspect_file(path: str) -> FileInfo:
    """Decode one image cheaply (JPEG draft mode) and hash it; never raises for bad files."""
    import numpy as np
    from PIL import Image

    if "://" in path:
        return FileInfo(path, error="remote (not checked)")
    file = Path(path)
    if not file.is_file():
        return FileInfo(path, error="missing")
    data = file.read_bytes()
    try:
        import io

        with Image.open(io.BytesIO(data)) as image:
            width, height, mode = image.width, image.height, image.mode
            # Decoding at 1/8 scale is enough for the hash and still reads every byte, so
            # truncated or corrupt files fail here.
            image.draft("L", (HASH_SIZE * 4, HASH_SIZE * 4))
            small = image.convert("L").resize(
                (HASH_SIZE + 1, HASH_SIZE), Image.Resampling.BILINEAR
            )
    except Exception as exc:  # PIL raises many types for corrupt data
        return FileInfo(path, error=f"cannot decode: {type(exc).__name__}: {exc}".strip())
    pixels = np.asarray(small, dtype=np.int16)
    bits = (pixels[:, 1:] > pixels[:, :-1]).reshape(-1)
    dhash = int("".join("1" if b else "0" for b in bits), 2)
    return FileInfo(path, None, width, height, mode, hashlib.sha1(data).hexdigest(), dhash)


def exact_groups(infos: Sequence[FileInfo]) -> list[list[int]]:
    """Indices of files with identical bytes, one list per group of two or more."""
    groups: dict[str, list[int]] = {}
    for i, info in enumerate(infos):
        if info.sha1:
            groups.setdefault(info.sha1, []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def near_pairs(hashes: Sequence[int | None], max_distance: int) -> list[tuple[int, int]]:
    """Index pairs whose perceptual hashes differ in at most ``max_distance`` bits."""
    import numpy as np

    idx = [i for i, h in enumerate(hashes) if h is not None]
    if len(idx) < 2:
        return []
    values = np.array([hashes[i] for i in idx], dtype=np.uint64)
    bits = np.unpackbits(values.view(np.uint8).reshape(len(idx), 8), axis=1).astype(bool)
    pairs: list[tuple[int, int]] = []
    chunk = 512  # rows per block keeps memory at chunk x N x 64 bytes
    for start in range(0, len(idx), chunk):
        block = bits[start : start + chunk]
        dist = (block[:, None, :] != bits[None, :, :]).sum(-1)
        rows, cols = np.nonzero(dist <= max_distance)
        for r, c in zip(rows.tolist(), cols.tolist()):
            a = start + r
            if a < c:
                pairs.append((idx[a], idx[c]))
    return pairs


def cross_pairs(
    left: Sequence[FileInfo], right: Sequence[FileInfo], max_distance: int
) -> list[tuple[int, int, str]]:
    """``(i, j, kind)`` pairs of an image in ``left`` that duplicates one in ``right``."""
    import numpy as np

    pairs: list[tuple[int, int, str]] = []
    by_sha: dict[str, int] = {}
    for j, info in enumerate(right):
        if info.sha1:
            by_sha.setdefault(info.sha1, j)
    for i, info in enumerate(left):
        if info.sha1 in by_sha:
            pairs.append((i, by_sha[info.sha1], "exact"))
    exact = {(i, j) for i, j, _ in pairs}
    li = [i for i, f in enumerate(left) if f.dhash is not None]
    rj = [j for j, f in enumerate(right) if f.dhash is not None]
    if li and rj:

        def unpack(values):
            arr = np.array(values, dtype=np.uint64)
            return np.unpackbits(arr.view(np.uint8).reshape(len(values), 8), axis=1).astype(bool)

        lb = unpack([left[i].dhash for i in li])
        rb = unpack([right[j].dhash for j in rj])
        for start in range(0, len(li), 512):
            dist = (lb[start : start + 512, None, :] != rb[None, :, :]).sum(-1)
            for r, c in zip(*np.nonzero(dist <= max_distance)):
                pair = (li[start + int(r)], rj[int(c)])
                if pair not in exact:
                    pairs.append((*pair, "near"))
    return pairs
