"""Classification metrics against small hand-computed cases."""

from __future__ import annotations

import json

import numpy as np
import pytest

from automl_nb.metrics import classification_metrics
from automl_nb.metrics import multilabel_iou

LABELS = ["can", "carton", "milk_bottle"]


def test_multiclass_accuracy_confusion_matrix_and_per_class() -> None:
    probs = np.array(
        [
            [0.8, 0.1, 0.1],  # true can, predicted can
            [0.2, 0.7, 0.1],  # true carton, predicted carton
            [0.6, 0.3, 0.1],  # true carton, predicted can
            [0.3, 0.3, 0.4],  # true milk_bottle, predicted milk_bottle
        ]
    )
    m = classification_metrics(probs, [0, 1, 1, 2], LABELS, multilabel=False)
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["confusion_matrix"] == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
    assert m["per_class"]["can"]["precision"] == pytest.approx(0.5)
    assert m["per_class"]["carton"]["recall"] == pytest.approx(0.5)
    assert m["per_class"]["carton"]["support"] == 2
    assert m["per_class"]["milk_bottle"]["f1"] == pytest.approx(1.0)
    # carton's scores 0.7, 0.3 (positives) vs 0.1, 0.3 (negatives): AP = (1 + 2/3) / 2.
    assert m["per_class"]["carton"]["average_precision"] == pytest.approx(5 / 6, abs=1e-6)
    assert m["f1_micro"] == pytest.approx(0.75)
    assert "top5_accuracy" not in m
    assert m["log_loss"] == pytest.approx(-np.log([0.8, 0.7, 0.3, 0.4]).mean())
    assert set(m["pr_curves"]) == set(LABELS)
    json.dumps(m, allow_nan=False)


def test_perfect_predictions_and_top5() -> None:
    rng = np.random.default_rng(0)
    targets = rng.integers(0, 8, size=40)
    probs = np.full((40, 8), 0.01)
    probs[np.arange(40), targets] = 0.5
    probs[np.arange(40), (targets + 1) % 8] = 0.4  # always the runner-up
    labels = [f"c{i}" for i in range(8)]
    m = classification_metrics(probs, targets, labels, multilabel=False)
    assert m["accuracy"] == 1.0 and m["top5_accuracy"] == 1.0
    assert np.trace(np.array(m["confusion_matrix"])) == 40
    # Swap the scores: the true class is now always second, so wrong but in the top 5.
    probs[np.arange(40), targets] = 0.4
    probs[np.arange(40), (targets + 1) % 8] = 0.5
    m = classification_metrics(probs, targets, labels, multilabel=False)
    assert m["accuracy"] == 0.0 and m["top5_accuracy"] == 1.0


def test_class_without_samples_has_undefined_ap() -> None:
    probs = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1]])
    m = classification_metrics(probs, [0, 1], LABELS, multilabel=False)
    assert m["per_class"]["milk_bottle"]["average_precision"] is None
    assert m["per_class"]["milk_bottle"]["support"] == 0
    assert "milk_bottle" not in m["pr_curves"]
    assert m["average_precision_macro"] == pytest.approx(1.0)
    json.dumps(m, allow_nan=False)


@pytest.mark.parametrize(
    ("pred", "true", "expected"),
    [
        ([[1, 1, 0]], [[1, 0, 0]], 0.5),
        ([[1, 0, 1]], [[0, 1, 0]], 0.0),
        ([[0, 0, 0]], [[0, 0, 0]], 1.0),  # nothing predicted, nothing true: perfect
        ([[0, 0, 0]], [[0, 1, 0]], 0.0),
        ([[1, 1, 0], [0, 1, 1]], [[1, 1, 1], [0, 1, 1]], (2 / 3 + 1) / 2),
    ],
)
def test_multilabel_iou_examples(pred, true, expected) -> None:
    assert multilabel_iou(np.array(pred), np.array(true)) == pytest.approx(expected)


def test_multilabel_metrics_use_the_threshold() -> None:
    probs = np.array([[0.8, 0.6, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    targets = [[1, 0, 0], [0, 1, 0], [0, 0, 0]]
    m = classification_metrics(probs, targets, LABELS, multilabel=True)
    assert m["iou"] == pytest.approx((0.5 + 1 + 1) / 3)
    assert "confusion_matrix" not in m and "accuracy" not in m
    assert m["subset_accuracy"] == pytest.approx(2 / 3)
    assert m["per_class"]["carton"]["precision"] == pytest.approx(0.5)
    m = classification_metrics(probs, targets, LABELS, multilabel=True, threshold=0.65)
    assert m["iou"] == pytest.approx(1.0)
    assert m["per_class"]["milk_bottle"]["average_precision"] is None
    json.dumps(m, allow_nan=False)


def test_pr_curves_are_at_most_101_points() -> None:
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(3), size=500)
    targets = rng.integers(0, 3, size=500)
    m = classification_metrics(probs, targets, LABELS, multilabel=False)
    for curve in m["pr_curves"].values():
        assert 2 <= len(curve["precision"]) <= 101
        assert len(curve["precision"]) == len(curve["recall"])
        assert all(0.0 <= v <= 1.0 for v in curve["recall"])


def test_bad_probs_shape_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\[N, 3\]"):
        classification_metrics(np.ones((2, 2)), [0, 1], LABELS, multilabel=False)
