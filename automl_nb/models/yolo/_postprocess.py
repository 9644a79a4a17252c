"""Letterboxing of a list of images, decoding of the head's outputs, and the final selection.

All functions are TorchScript-compatible: the eager detector and its scripted export run the
same code, so both give the same boxes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torchvision.ops import batched_nms

PAD_VALUE = 114.0 / 255.0  # grey padding, in 0-1 RGB
# Candidates kept per image before NMS (highest scores first): bounds NMS time when an
# untrained model scores many boxes above the threshold.
MAX_CANDIDATES = 3000


def letterbox(
    images: list[torch.Tensor], size: int, stride: int = 32, pad: float = PAD_VALUE
) -> tuple[torch.Tensor, list[float]]:
    """Resize each image so its longest side is ``size`` and pad all to one batch.

    Images keep their aspect ratio and sit at the top-left corner of the padded canvas, whose
    sides are the batch's largest resized sides rounded up to a multiple of ``stride``.
    A box ``b`` in the batch maps back to its image as ``b / scale``.

    Args:
        images: 0-1 float ``[3, H, W]`` tensors of any sizes.
        size: The longest side after resizing.
        stride: The network's largest stride.
        pad: Value of the padding (grey).

    Returns:
        The batch ``[N, 3, H', W']`` and one scale per image.
    """
    resized: list[torch.Tensor] = []
    scales: list[float] = []
    max_h = 0
    max_w = 0
    for image in images:
        h = int(image.shape[-2])
        w = int(image.shape[-1])
        scale = float(size) / float(max(h, w))
        new_h = max(1, int(round(h * scale)))
        new_w = max(1, int(round(w * scale)))
        if new_h != h or new_w != w:
            image = F.interpolate(
                image[None], size=(new_h, new_w), mode="bilinear", align_corners=False
            )[0]
        resized.append(image)
        scales.append(scale)
        max_h = max(max_h, new_h)
        max_w = max(max_w, new_w)
    out_h = (max_h + stride - 1) // stride * stride
    out_w = (max_w + stride - 1) // stride * stride
    batch = images[0].new_full((len(images), 3, out_h, out_w), pad)
    for i, image in enumerate(resized):
        batch[i, :, : image.shape[-2], : image.shape[-1]] = image
    return batch, scales


def grid_offsets(h: int, w: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Cell indices ``[1, 1, h, w, 2]`` (x, y) of one level."""
    ys = torch.arange(h, device=device, dtype=dtype)
    xs = torch.arange(w, device=device, dtype=dtype)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], dim=-1).view(1, 1, h, w, 2)


def decode(raw: list[torch.Tensor], anchors: torch.Tensor, strides: list[int]) -> torch.Tensor:
    """Head logits to ``[N, boxes, 5 + C]``: (x0, y0, x1, y1) in batch pixels, obj, classes.

    Centres are ``(2 sigmoid - 0.5 + cell) * stride`` and sizes ``(2 sigmoid)^2 * anchor``,
    the YOLOv5 parameterisation (bounded, so no exp overflow).
    """
    outs: list[torch.Tensor] = []
    for i, y in enumerate(raw):
        n, a, h, w, k = y.shape
        p = y.sigmoid()
        grid = grid_offsets(h, w, y.device, p.dtype)
        xy = (p[..., 0:2] * 2.0 - 0.5 + grid) * float(strides[i])
        wh = (p[..., 2:4] * 2.0) ** 2 * anchors[i].to(p.dtype).view(1, a, 1, 1, 2)
        boxes = torch.cat([xy - wh / 2.0, xy + wh / 2.0], dim=-1)
        outs.append(torch.cat([boxes, p[..., 4:]], dim=-1).view(n, a * h * w, k))
    return torch.cat(outs, dim=1)


def _top_candidates(scores: torch.Tensor, limit: int) -> torch.Tensor:
    """Indices of the ``limit`` highest scores (all of them when fewer)."""
    if torch.jit.is_scripting():
        k = min(limit, int(scores.shape[0]))
    else:
        k = _traceable_k(scores, limit)
    return scores.topk(k).indices


@torch.jit.unused
def _traceable_k(scores: torch.Tensor, limit: int) -> int:
    # Under ONNX tracing the candidate count must stay dynamic; torchvision's helper does that.
    from torchvision.models.detection import _utils as det_utils

    return det_utils._topk_min(scores, limit, 0)


def select_detections(
    decoded: torch.Tensor,
    scales: list[float],
    sizes: list[tuple[int, int]],
    score_thresh: float,
    nms_thresh: float,
    max_detections: int,
    max_candidates: int = MAX_CANDIDATES,
) -> list[dict[str, torch.Tensor]]:
    """Per image: score = objectness x class probability, threshold, class-wise NMS, cap.

    Every class whose score passes ``score_thresh`` gives a candidate (multi-label), as in
    YOLOv5's evaluation. Boxes are mapped back to each input image and clipped to it; label
    ids are ``1..C``.

    Args:
        decoded: Output of :func:`decode`.
        scales: Letterbox scale of each image.
        sizes: ``(height, width)`` of each input image.
        score_thresh: ``box_score_thresh``.
        nms_thresh: ``nms_iou_thresh``.
        max_detections: ``box_detections_per_img``.
        max_candidates: Candidates per image kept for NMS (highest scores).
    """
    results: list[dict[str, torch.Tensor]] = []
    for i in range(decoded.shape[0]):
        pred = decoded[i]
        scores = pred[:, 5:] * pred[:, 4:5]
        mask = scores > score_thresh
        index = mask.nonzero()
        box_index, class_index = index[:, 0], index[:, 1]
        flat_scores = scores[box_index, class_index]
        keep = _top_candidates(flat_scores, max_candidates)
        box_index, class_index, flat_scores = box_index[keep], class_index[keep], flat_scores[keep]
        boxes = pred[box_index, :4] / scales[i]
        h, w = sizes[i]
        boxes = torch.stack(
            [
                boxes[:, 0].clamp(0.0, float(w)),
                boxes[:, 1].clamp(0.0, float(h)),
                boxes[:, 2].clamp(0.0, float(w)),
                boxes[:, 3].clamp(0.0, float(h)),
            ],
            dim=1,
        )
        kept = batched_nms(boxes, flat_scores, class_index, nms_thresh)[:max_detections]
        results.append(
            {
                "boxes": boxes[kept],
                "labels": class_index[kept] + 1,
                "scores": flat_scores[kept],
            }
        )
    return results
