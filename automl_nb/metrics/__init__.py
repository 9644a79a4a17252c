"""Validation metrics and their plots.

* :func:`classification_metrics`: accuracy (multi-class primary) or IoU (multi-label primary),
  per-class precision/recall/F1/AP, confusion matrix, PR curves.
* :func:`detection_metrics`: mean average precision (``voc`` / ``coco`` / ``coco_voc`` /
  ``none``) for boxes or masks, per-class AP/precision/recall, PR curves.
* :func:`plot_epoch_curves`, :func:`plot_confusion_matrix`, :func:`plot_pr_curves`: PNG files.

All results are JSON-safe dicts (floats, ints, lists, ``None`` for undefined values).
"""

from __future__ import annotations

from automl_nb.metrics._classification import classification_metrics
from automl_nb.metrics._classification import multilabel_iou
from automl_nb.metrics._detection import METRIC_TYPES
from automl_nb.metrics._detection import detection_metrics
from automl_nb.metrics._plots import plot_confusion_matrix
from automl_nb.metrics._plots import plot_epoch_curves
from automl_nb.metrics._plots import plot_pr_curves

__all__ = [
    "METRIC_TYPES",
    "classification_metrics",
    "detection_metrics",
    "multilabel_iou",
    "plot_confusion_matrix",
    "plot_epoch_curves",
    "plot_pr_curves",
]
