"""What an explainer works on: the model and one preprocessed image."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

import numpy as np

if TYPE_CHECKING:
    import torch
    from PIL import Image


@dataclass(frozen=True)
class AttributionInput:
    """One image ready for attribution.

    Attributes:
        model: The classifier in eval mode; it returns logits ``[N, num_classes]``.
        inputs: The normalised image tensor ``[1, 3, H, W]`` on the model's device.
        image: The same crop before normalisation, ``[H, W, 3]`` float32 in ``[0, 1]``.
        mean: Per-channel normalisation mean.
        std: Per-channel normalisation standard deviation.
        gradcam_layer: Dotted path of the Grad-CAM layer, or None to find one.
        num_prefix_tokens: For vision transformers, how many class/register tokens precede the
            patch tokens; None reads ``model.num_prefix_tokens`` (timm) when needed.
    """

    model: Any
    inputs: torch.Tensor
    image: np.ndarray
    mean: tuple[float, ...]
    std: tuple[float, ...]
    gradcam_layer: str | None = None
    num_prefix_tokens: int | None = None

    def constant_baseline(self, pixel_value: float) -> torch.Tensor:
        """A uniform image of ``pixel_value`` (0 black, 1 white), normalised like the input."""
        import torch

        mean = torch.tensor(self.mean, dtype=self.inputs.dtype, device=self.inputs.device)
        std = torch.tensor(self.std, dtype=self.inputs.dtype, device=self.inputs.device)
        value = (pixel_value - mean) / std
        return value.view(1, -1, 1, 1).expand_as(self.inputs).contiguous()


def crop_image(
    image: Image.Image, *, resize_size: int, crop_size: int, interpolation: str = "bilinear"
) -> np.ndarray:
    """The validation view of ``image``: shorter side resized, then a centre crop.

    This is torchvision's ``Resize(resize_size)`` followed by ``CenterCrop(crop_size)``, the
    transform a classifier is validated with (``valid_resize_size``, ``valid_crop_size``).

    Returns:
        ``[crop_size, crop_size, 3]`` float32 array in ``[0, 1]``.
    """
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as tvf

    mode = InterpolationMode(interpolation)
    image = image.convert("RGB")
    image = tvf.resize(image, [resize_size], interpolation=mode)
    image = tvf.center_crop(image, [crop_size, crop_size])
    return np.asarray(image, dtype=np.float32) / 255.0


def normalise(
    image: np.ndarray, mean: Sequence[float], std: Sequence[float], device: Any = None
) -> torch.Tensor:
    """``[H, W, 3]`` array in ``[0, 1]`` -> normalised ``[1, 3, H, W]`` tensor."""
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float()
    mean_t = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(-1, 1, 1)
    return ((tensor - mean_t) / std_t).unsqueeze(0).to(device)


@contextlib.contextmanager
def quiet_captum() -> Iterator[None]:
    """Silence captum's per-call notices (input made to require grad, hooks set and removed)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"captum\..*")
        yield
