"""Classification metrics: accuracy (multi-class primary), IoU (multi-label primary), per-class
precision/recall/F1/AP, confusion matrix and precision-recall curves.

Everything is computed with ``torchmetrics`` except the multi-label sample IoU, which is a
one-line definition (see :func:`multilabel_iou`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from automl_nb.metrics._common import downsample
from automl_nb.metrics._common import num


def multilabel_iou(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean over samples of ``|pred ∩ true| / |pred ∪ true|`` (Azure's multi-label ``iou``).

    A sample with no true and no predicted label counts as 1 (a perfect answer).

    Args:
        pred: Binary predictions ``[N, C]``.
        true: Binary targets ``[N, C]``.
    """
    pred = np.asarray(pred).astype(bool)
    true = np.asarray(true).astype(bool)
    if pred.shape[0] == 0:
        return float("nan")
    inter = (pred & true).sum(1)
    union = (pred | true).sum(1)
    per_sample = np.where(union == 0, 1.0, inter / np.maximum(union, 1))
    return float(per_sample.mean())


def classification_metrics(
    probs: np.ndarray,
    targets: np.ndarray | Sequence[int] | Sequence[Sequence[int]],
    labels: Sequence[str],
    *,
    multilabel: bool,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """Validation metrics of a classifier, as a JSON-safe dict.

    Args:
        probs: Class probabilities ``[N, C]`` (softmax for multi-class, sigmoid for
            multi-label).
        targets: Class indices ``[N]`` (multi-class) or multi-hot ``[N, C]`` (multi-label).
        labels: Class names, index order.
        multilabel: Multi-label metrics (IoU primary) instead of multi-class (accuracy primary).
        threshold: Probability at which a multi-label class counts as predicted.

    Returns:
        Multi-class: ``accuracy`` (primary), ``top5_accuracy`` (when C > 5), ``log_loss``,
        ``precision_macro/micro``, ``recall_macro/micro``, ``f1_macro/micro``,
        ``average_precision_macro``, ``confusion_matrix`` (rows = true class, columns =
        predicted), ``per_class`` {label: {precision, recall, f1, average_precision,
        support}}, ``pr_curves`` {label: {precision, recall}} (at most 101 points each),
        ``num_samples``. Multi-label: ``iou`` (primary, see :func:`multilabel_iou`),
        ``iou_micro``, ``iou_macro``, ``subset_accuracy``, ``hamming_accuracy`` and the same
        precision/recall/F1/AP/per-class/PR entries (no confusion matrix). Undefined values
        are ``None``.

    Example:
        >>> m = classification_metrics(np.eye(3), [0, 1, 2], ["a", "b", "c"], multilabel=False)
        >>> m["accuracy"]
        1.0
    """
    with warnings.catch_warnings():
        # torchmetrics warns about classes without positives; those entries are None here.
        warnings.simplefilter("ignore", UserWarning)
        return _classification_metrics(probs, targets, labels, multilabel, threshold)


def _classification_metrics(
    probs: Any, targets: Any, labels: Sequence[str], multilabel: bool, threshold: float
) -> dict[str, Any]:
    import torch
    from torchmetrics.functional import classification as F

    probs_np = np.asarray(probs, dtype=np.float64)
    if probs_np.ndim != 2 or probs_np.shape[1] != len(labels):
        raise ValueError(f"probs must be [N, {len(labels)}], got {probs_np.shape}")
    preds = torch.from_numpy(probs_np)
    num_classes = len(labels)
    out: dict[str, Any] = {"num_samples": int(preds.shape[0])}

    if multilabel:
        target = torch.as_tensor(np.asarray(targets), dtype=torch.long).reshape(preds.shape)
        kw: dict[str, Any] = {"num_labels": num_classes, "threshold": threshold}
        hard = (probs_np >= threshold).astype(int)
        out["iou"] = num(multilabel_iou(hard, target.numpy()))
        out["iou_micro"] = num(F.multilabel_jaccard_index(preds, target, average="micro", **kw))
        out["iou_macro"] = num(F.multilabel_jaccard_index(preds, target, average="macro", **kw))
        out["subset_accuracy"] = num(F.multilabel_exact_match(preds, target, **kw))
        out["hamming_accuracy"] = num(F.multilabel_accuracy(preds, target, average="micro", **kw))
        clipped = np.clip(probs_np, 1e-7, 1 - 1e-7)
        t = target.numpy()
        out["log_loss"] = num(-(t * np.log(clipped) + (1 - t) * np.log(1 - clipped)).mean())
        prec: Any = F.multilabel_precision
        rec: Any = F.multilabel_recall
        f1: Any = F.multilabel_f1_score
        ap_fn: Any = F.multilabel_average_precision
        ap_kw: dict[str, Any] = {"num_labels": num_classes}
        curve = F.multilabel_precision_recall_curve(preds, target, num_labels=num_classes)
        support = target.sum(0)
    else:
        target = torch.as_tensor(np.asarray(targets), dtype=torch.long).reshape(-1)
        kw = {"num_classes": num_classes}
        out["accuracy"] = num(F.multiclass_accuracy(preds, target, average="micro", **kw))
        if num_classes > 5:
            out["top5_accuracy"] = num(
                F.multiclass_accuracy(preds, target, average="micro", top_k=5, **kw)
            )
        picked = probs_np[np.arange(len(target)), target.numpy()] if len(target) else []
        out["log_loss"] = num(-np.log(np.clip(picked, 1e-7, 1.0)).mean()) if len(target) else None
        out["confusion_matrix"] = (
            F.multiclass_confusion_matrix(preds, target, **kw).to(torch.long).tolist()
        )
        prec, rec, f1 = F.multiclass_precision, F.multiclass_recall, F.multiclass_f1_score
        ap_fn = F.multiclass_average_precision
        ap_kw = {"num_classes": num_classes}
        curve = F.multiclass_precision_recall_curve(preds, target, num_classes=num_classes)
        support = torch.bincount(target, minlength=num_classes)

    for name, fn in (("precision", prec), ("recall", rec), ("f1", f1)):
        out[f"{name}_macro"] = num(fn(preds, target, average="macro", **kw))
        out[f"{name}_micro"] = num(fn(preds, target, average="micro", **kw))
    per_p = prec(preds, target, average="none", **kw)
    per_r = rec(preds, target, average="none", **kw)
    per_f = f1(preds, target, average="none", **kw)
    # AP is undefined for a class with no positive sample; such classes are left out of the
    # macro average (their entry is None).
    per_ap = ap_fn(preds, target, average="none", **ap_kw) if len(target) else None
    aps: list[float | None] = []
    per_class: dict[str, dict[str, Any]] = {}
    pr_curves: dict[str, dict[str, list]] = {}
    precisions, recalls, _ = curve
    for i, label in enumerate(labels):
        has_positive = int(support[i]) > 0
        ap = num(per_ap[i]) if per_ap is not None and has_positive else None
        aps.append(ap)
        per_class[label] = {
            "precision": num(per_p[i]),
            "recall": num(per_r[i]) if has_positive else None,
            "f1": num(per_f[i]),
            "average_precision": ap,
            "support": int(support[i]),
        }
        if has_positive:
            r, p = downsample(recalls[i].tolist(), precisions[i].tolist())
            pr_curves[label] = {"precision": p, "recall": r}
    valid = [a for a in aps if a is not None]
    out["average_precision_macro"] = float(np.mean(valid)) if valid else None
    out["per_class"] = per_class
    out["pr_curves"] = pr_curves
    return out
