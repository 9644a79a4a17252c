"""Object detection and instance segmentation metrics.

Mean average precision comes from ``torchmetrics``' ``MeanAveragePrecision`` with the
``faster_coco_eval`` backend (COCO's evaluation: 101-point interpolated AP, up to 100
detections per image, crowd ground truth ignored):

* ``voc``: AP at the single IoU threshold ``iou_threshold`` (default 0.5), averaged over
  classes. This is COCO-style AP at one threshold, which is what Azure's ``voc`` reports
  (not the 11-point VOC2007 interpolation).
* ``coco``: AP averaged over IoU 0.50:0.05:0.95.
* ``coco_voc``: both; the primary ``mean_average_precision`` is the ``voc`` value.
* ``none``: no mAP; ``mean_average_precision`` is ``None`` (precision/recall are still given).

A class with no ground truth in the data has ``average_precision`` ``None`` and is left out of
the mean, as in COCO. Labels are ids ``1..C``: id ``i + 1`` is ``labels[i]``.

Per-class ``precision`` and ``recall`` are counted at ``iou_threshold`` over all detections
given (i.e. those that passed ``box_score_threshold``): detections are matched to ground truth
greedily by score, a detection matching a crowd region is ignored, crowd regions are not
counted as ground truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from automl_nb.metrics._common import downsample
from automl_nb.metrics._common import num

METRIC_TYPES = ("voc", "coco", "coco_voc", "none")


def _as_masks(masks: Any, mask_threshold: float) -> Any:
    """Bool ``[K, H, W]`` masks from Mask R-CNN's ``[K, 1, H, W]`` probabilities or bools."""
    import torch

    masks = torch.as_tensor(masks).detach().cpu()
    if masks.ndim == 4:
        masks = masks[:, 0]
    if masks.dtype != torch.bool:
        masks = masks > mask_threshold if masks.is_floating_point() else masks > 0
    return masks


def _prepare(
    predictions: Sequence[dict], targets: Sequence[dict], segmentation: bool, mask_threshold: float
) -> tuple[list[dict], list[dict]]:
    import torch

    def tensor(value: Any, dtype: Any) -> Any:
        # Metrics are computed on the CPU whatever device the model ran on.
        return torch.as_tensor(value).detach().cpu().to(dtype)

    preds, tgts = [], []
    for p, t in zip(predictions, targets, strict=True):
        pd = {
            "boxes": tensor(p["boxes"], torch.float32).reshape(-1, 4),
            "scores": tensor(p["scores"], torch.float32).reshape(-1),
            "labels": tensor(p["labels"], torch.long).reshape(-1),
        }
        gt_boxes = tensor(t["boxes"], torch.float32).reshape(-1, 4)
        crowd = t.get("iscrowd")
        td = {
            "boxes": gt_boxes,
            "labels": tensor(t["labels"], torch.long).reshape(-1),
            "iscrowd": (
                torch.zeros(len(gt_boxes), dtype=torch.long)
                if crowd is None
                else tensor(crowd, torch.long).reshape(-1)
            ),
        }
        if segmentation:
            pd["masks"] = _as_masks(p["masks"], mask_threshold)
            td["masks"] = _as_masks(t["masks"], 0.5)
        preds.append(pd)
        tgts.append(td)
    return preds, tgts


def _map(preds: list[dict], tgts: list[dict], iou_type: str, thresholds: list[float] | None):
    from torchmetrics.detection import MeanAveragePrecision

    metric = MeanAveragePrecision(
        box_format="xyxy",
        iou_type=iou_type,  # type: ignore[arg-type]
        iou_thresholds=thresholds,
        class_metrics=True,
        extended_summary=True,
        backend="faster_coco_eval",
    )
    # Give each IoU type only its own geometry (boxes or masks).
    drop = "boxes" if iou_type == "segm" else "masks"
    metric.update(
        [{k: v for k, v in p.items() if k != drop} for p in preds],
        [{k: v for k, v in t.items() if k != drop} for t in tgts],
    )
    return metric.compute()


def _per_class_ap(result: Any) -> dict[int, float | None]:
    if "map_per_class" not in result:  # the mask evaluator saw no detection at all
        return {}
    classes = result["classes"].reshape(-1).tolist()
    values = result["map_per_class"].reshape(-1).tolist()
    return {int(c): (v if v >= 0 else None) for c, v in zip(classes, values)}


def _pr_curves(result: Any, labels: Sequence[str]) -> dict[str, dict[str, list]]:
    """Interpolated precision at 101 recall points, first IoU threshold, all areas, 100 dets."""
    if "precision" not in result:  # no detection at all: no curve to draw
        return {}
    precision = result["precision"]  # [T, R, K, A, M]
    classes = result["classes"].reshape(-1).tolist()
    grid = np.linspace(0.0, 1.0, precision.shape[1])
    curves = {}
    for k, cls in enumerate(classes):
        if not 1 <= int(cls) <= len(labels):
            continue
        p = precision[0, :, k, 0, -1].numpy()
        if (p < 0).all():  # no ground truth for the class
            continue
        r_out, p_out = downsample(grid, np.where(p < 0, 0.0, p))
        curves[labels[int(cls) - 1]] = {"precision": p_out, "recall": r_out}
    return curves


def _pairwise_iou(a: Any, b: Any, masks: bool) -> tuple[Any, Any]:
    """IoU and intersection over ``a``'s area (for crowd matching) between two sets."""
    import torch
    from torchvision.ops import box_area

    if masks:
        fa = a.reshape(len(a), -1).float()
        fb = b.reshape(len(b), -1).float()
        inter = fa @ fb.T
        area_a, area_b = fa.sum(1), fb.sum(1)
    else:
        lt = torch.max(a[:, None, :2], b[None, :, :2])
        rb = torch.min(a[:, None, 2:], b[None, :, 2:])
        inter = (rb - lt).clamp(min=0).prod(2)
        area_a, area_b = box_area(a), box_area(b)
    union = area_a[:, None] + area_b[None, :] - inter
    return inter / union.clamp(min=1e-9), inter / area_a[:, None].clamp(min=1e-9)


def _counts(
    preds: list[dict], tgts: list[dict], num_classes: int, thr: float, masks: bool
) -> np.ndarray:
    """Per class ``[tp, fp, n_gt]`` at IoU ``thr`` (greedy by score; crowd ignored)."""
    counts = np.zeros((num_classes + 1, 3), dtype=np.int64)
    key = "masks" if masks else "boxes"
    for p, t in zip(preds, tgts):
        for cls in set(p["labels"].tolist()) | set(t["labels"].tolist()):
            if not 1 <= cls <= num_classes:
                continue
            pm = p["labels"] == cls
            tm = t["labels"] == cls
            crowd = t["iscrowd"].bool()
            gt, gt_crowd = t[key][tm & ~crowd], t[key][tm & crowd]
            order = p["scores"][pm].argsort(descending=True)
            dets = p[key][pm][order]
            counts[cls, 2] += len(gt)
            if len(dets) == 0:
                continue
            iou = _pairwise_iou(dets, gt, masks)[0] if len(gt) else None
            ioa = _pairwise_iou(dets, gt_crowd, masks)[1] if len(gt_crowd) else None
            taken = np.zeros(len(gt), dtype=bool)
            for d in range(len(dets)):
                if iou is not None:
                    row = iou[d].numpy().copy()
                    row[taken] = -1.0
                    best = int(row.argmax())
                    if row[best] >= thr:
                        taken[best] = True
                        counts[cls, 0] += 1
                        continue
                if ioa is not None and float(ioa[d].max()) >= thr:
                    continue  # matches a crowd region: neither right nor wrong
                counts[cls, 1] += 1
    return counts


def detection_metrics(
    predictions: Sequence[dict],
    targets: Sequence[dict],
    labels: Sequence[str],
    *,
    metric_type: str = "voc",
    iou_threshold: float = 0.5,
    segmentation: bool = False,
    mask_threshold: float = 0.5,
) -> dict[str, Any]:
    """Validation metrics of a detector, as a JSON-safe dict (see the module docstring).

    Args:
        predictions: One dict per image with ``boxes`` ``[K, 4]`` (xyxy, pixels), ``scores``,
            ``labels`` (ids ``1..C``) and, for segmentation, ``masks`` (``[K, 1, H, W]``
            probabilities as Mask R-CNN returns them, or bool ``[K, H, W]``).
        targets: One dict per image with ``boxes``, ``labels``, optional ``iscrowd`` and, for
            segmentation, ``masks`` ``[M, H, W]``.
        labels: Class names; id ``i + 1`` is ``labels[i]``.
        metric_type: ``voc``, ``coco``, ``coco_voc`` or ``none`` (Azure's
            ``validation_metric_type``).
        iou_threshold: IoU of the ``voc`` mAP and of per-class precision/recall (Azure's
            ``validation_iou_threshold``).
        segmentation: Evaluate masks (``segm``) for the primary metric; box mAP is reported
            as ``box_mean_average_precision`` too.
        mask_threshold: Pixel probability above which a predicted mask pixel is on.

    Returns:
        ``mean_average_precision`` (primary; ``None`` for ``none``), ``map_voc`` (AP at
        ``iou_threshold``), ``map_50``, ``map_75``, ``map_50_95`` (``None`` when not computed),
        ``precision``, ``recall`` (over all classes), ``per_class`` {label:
        {average_precision, precision, recall, num_ground_truth, num_predictions}},
        ``pr_curves`` {label: {precision, recall}} at ``iou_threshold`` (``coco``: at 0.5),
        plus ``metric_type``, ``iou_threshold``, ``num_images``.

    Raises:
        ValueError: For an unknown ``metric_type`` or a threshold outside (0, 1].
    """
    if metric_type not in METRIC_TYPES:
        raise ValueError(f"metric_type must be one of {', '.join(METRIC_TYPES)}")
    if not 0.0 < float(iou_threshold) <= 1.0:
        raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
    thr = float(iou_threshold)
    preds, tgts = _prepare(predictions, targets, segmentation, mask_threshold)
    iou_type = "segm" if segmentation else "bbox"
    out: dict[str, Any] = {
        "metric_type": metric_type,
        "iou_threshold": thr,
        "num_images": len(preds),
        "mean_average_precision": None,
        "map_voc": None,
        "map_50": None,
        "map_75": None,
        "map_50_95": None,
    }
    ap_by_class: dict[int, float | None] = {}
    curves: dict[str, dict[str, list]] = {}
    if preds and metric_type != "none":
        if metric_type in ("voc", "coco_voc"):
            voc = _map(preds, tgts, iou_type, [thr])
            out["map_voc"] = num(voc["map"]) if float(voc["map"]) >= 0 else None
            ap_by_class = _per_class_ap(voc)
            curves = _pr_curves(voc, labels)
        if metric_type in ("coco", "coco_voc"):
            coco = _map(preds, tgts, iou_type, None)
            for key, src in (("map_50_95", "map"), ("map_50", "map_50"), ("map_75", "map_75")):
                out[key] = num(coco[src]) if float(coco[src]) >= 0 else None
            if metric_type == "coco":
                ap_by_class = _per_class_ap(coco)
                curves = _pr_curves(coco, labels)
        if abs(thr - 0.5) < 1e-9 and out["map_voc"] is not None:
            out["map_50"] = out["map_voc"]
        out["mean_average_precision"] = (
            out["map_50_95"] if metric_type == "coco" else out["map_voc"]
        )
        if segmentation:
            box = _map(preds, tgts, "bbox", [thr] if metric_type != "coco" else None)
            out["box_mean_average_precision"] = num(box["map"]) if float(box["map"]) >= 0 else None
        if not any(len(p["labels"]) for p in preds):
            # NOTE with no detection at all the COCO evaluator reports -1 (and no per-class
            # table for masks); AP is 0 by definition for every class that has objects.
            present = {int(c) for t in tgts for c, k in zip(t["labels"], t["iscrowd"]) if not k}
            if present:
                ap_by_class = {c: 0.0 for c in present}
                for key in ("mean_average_precision", "map_voc", "map_50", "map_75", "map_50_95"):
                    if metric_type == "coco" and key == "map_voc":
                        continue
                    if metric_type in ("voc",) and key in ("map_75", "map_50_95"):
                        continue
                    out[key] = 0.0
                if segmentation:
                    out["box_mean_average_precision"] = 0.0

    counts = _counts(preds, tgts, len(labels), thr, segmentation)
    per_class = {}
    for i, label in enumerate(labels):
        tp, fp, n_gt = (int(v) for v in counts[i + 1])
        per_class[label] = {
            "average_precision": ap_by_class.get(i + 1),
            "precision": tp / (tp + fp) if tp + fp else (0.0 if n_gt else None),
            "recall": tp / n_gt if n_gt else None,
            "num_ground_truth": n_gt,
            "num_predictions": tp + fp,
        }
    tp, fp, n_gt = (int(v) for v in counts[1:].sum(0))
    out["precision"] = tp / (tp + fp) if tp + fp else (0.0 if n_gt else None)
    out["recall"] = tp / n_gt if n_gt else None
    out["per_class"] = per_class
    out["pr_curves"] = curves
    return out
