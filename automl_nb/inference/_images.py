"""Turn the many ways a user can hand over an image into RGB PIL images."""

from __future__ import annotations

import base64
import binascii
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from automl_nb.errors import DataError
from automl_nb.errors import Problem


def _from_bytes(data: bytes, where: str) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return _to_rgb(image)
    except Image.DecompressionBombError as exc:
        from automl_nb.data._images import bomb_message

        raise DataError(Problem(bomb_message(exc), path=where)) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataError(Problem(f"cannot decode image bytes: {exc}", path=where)) from None


def _to_rgb(image: Image.Image) -> Image.Image:
    from PIL import ImageOps

    # Camera photos carry their orientation in EXIF; honour it as image viewers do.
    image = ImageOps.exif_transpose(image) or image
    if image.mode != "RGB":
        image = image.convert("RGBA").convert("RGB") if "A" in image.mode else image.convert("RGB")
    return image


def _from_array(array: np.ndarray, where: str) -> Image.Image:
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3, 4):
        array = np.moveaxis(array, 0, -1)  # CHW -> HWC
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise DataError(
            Problem("expected an HxW, HxWx3 or HxWx4 array", path=where, value=str(array.shape))
        )
    if array.dtype != np.uint8:
        values = array.astype(np.float64)
        # Floats in [0, 1] are scaled; other numbers are taken as 0-255 intensities.
        if np.issubdtype(array.dtype, np.floating) and values.size and values.max() <= 1.0:
            values = values * 255.0
        array = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return _to_rgb(Image.fromarray(array))


def _from_path(path: str | os.PathLike[str]) -> Image.Image:
    from automl_nb.data import open_image

    return open_image(str(path))


def load_image(image: Any, *, where: str = "image") -> Image.Image:
    """An RGB PIL image from a path, URL, PIL image, numpy array, bytes or base64 string.

    Args:
        image: A local path or fsspec URL, a ``PIL.Image``, an ``HxW[xC]`` (or ``CxHxW``)
            numpy array (uint8, or floats in [0, 1]), encoded image bytes, or a base64 string
            of encoded image bytes (the Azure scoring request form).
        where: Names the input in error messages.

    Returns:
        The image in RGB mode.

    Raises:
        DataError: the input cannot be read as an image.
    """
    if isinstance(image, Image.Image):
        return _to_rgb(image)
    if isinstance(image, np.ndarray):
        return _from_array(image, where)
    if hasattr(image, "detach") and hasattr(image, "cpu"):  # a torch tensor
        return _from_array(image.detach().cpu().numpy(), where)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return _from_bytes(bytes(image), where)
    if isinstance(image, Path):
        return _from_path(image)
    if isinstance(image, str):
        text = image.strip()
        if "://" in text or os.path.exists(text) or len(text) < 64:
            return _from_path(text)
        if text.startswith("data:") and "," in text:
            text = text.split(",", 1)[1]
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return _from_path(text)
        return _from_bytes(data, where)
    raise DataError(
        Problem(
            "cannot use this as an image (expected a path, PIL image, array, bytes or base64)",
            path=where,
            value=type(image).__name__,
        )
    )


def as_image_list(images: Any) -> list[Any]:
    """A list of single-image inputs: one image (of any accepted form) or a sequence of them."""
    if isinstance(images, np.ndarray) and images.ndim == 4:
        return list(images)
    if isinstance(images, (str, bytes, bytearray, memoryview, Path, Image.Image, np.ndarray)):
        return [images]
    if hasattr(images, "detach") and getattr(images, "ndim", 0) == 4:
        return list(images)
    if hasattr(images, "detach"):
        return [images]
    if isinstance(images, Sequence) or hasattr(images, "__iter__"):
        return list(images)
    return [images]
