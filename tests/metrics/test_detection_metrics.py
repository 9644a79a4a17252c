"""Detection and instance segmentation metrics against small hand-computed cases."""

from __future__ import annotations

import json

import pytest
import torch

from automl_nb.metrics import detection_metrics

LABELS = ["can", "carton"]


def _t(boxes, labels, iscrowd=None) -> dict:
    out = {"boxes": torch.tensor(boxes, dtype=torch.float32), "labels": torch.tensor(labels)}
    if iscrowd is not None:
        out["iscrowd"] = torch.tensor(iscrowd)
    return out


def _p(boxes, labels, scores) -> dict:
    out = _t(boxes, labels)
    out["scores"] = torch.tensor(scores, dtype=torch.float32)
    return out


TARGETS = [
    _t([[0, 0, 10, 10], [20, 20, 40, 40]], [1, 2]),
    _t([[5, 5, 25, 25]], [1]),
]


def test_perfect_predictions_give_map_one_for_every_metric_type() -> None:
    preds = [
        _p([[0, 0, 10, 10], [20, 20, 40, 40]], [1, 2], [0.9, 0.8]),
        _p([[5, 5, 25, 25]], [1], [0.7]),
    ]
    for metric_type in ("voc", "coco", "coco_voc"):
        m = detection_metrics(preds, TARGETS, LABELS, metric_type=metric_type)
        assert m["mean_average_precision"] == pytest.approx(1.0)
        assert m["per_class"]["can"]["average_precision"] == pytest.approx(1.0)
        assert m["precision"] == 1.0 and m["recall"] == 1.0
        json.dumps(m, allow_nan=False)
    m = detection_metrics(preds, TARGETS, LABELS, metric_type="coco_voc")
    assert m["map_voc"] == m["map_50"] == m["map_50_95"] == pytest.approx(1.0)


def test_metric_type_none_gives_no_map_but_precision_and_recall() -> None:
    preds = [_p([[0, 0, 10, 10]], [1], [0.9]), _p([], [], [])]
    m = detection_metrics(preds, TARGETS, LABELS, metric_type="none")
    assert m["mean_average_precision"] is None and m["map_50_95"] is None
    assert m["per_class"]["can"]["recall"] == pytest.approx(0.5)
    assert m["per_class"]["carton"]["precision"] == 0.0  # ground truth but no detection
    assert m["pr_curves"] == {}


def test_one_missed_box() -> None:
    preds = [
        _p([[0, 0, 10, 10], [20, 20, 40, 40]], [1, 2], [0.9, 0.8]),
        _p([], [], []),  # the second 'can' is missed
    ]
    m = detection_metrics(preds, TARGETS, LABELS)
    can = m["per_class"]["can"]
    assert can["recall"] == pytest.approx(0.5) and can["precision"] == pytest.approx(1.0)
    assert can["average_precision"] == pytest.approx(0.5, abs=0.01)
    assert m["per_class"]["carton"]["average_precision"] == pytest.approx(1.0)
    assert m["mean_average_precision"] == pytest.approx(0.75, abs=0.01)
    assert m["recall"] == pytest.approx(2 / 3)


def test_false_positive_lowers_precision() -> None:
    preds = [
        _p([[0, 0, 10, 10], [20, 20, 40, 40], [60, 60, 70, 70]], [1, 2, 2], [0.9, 0.8, 0.95]),
        _p([[5, 5, 25, 25]], [1], [0.7]),
    ]
    m = detection_metrics(preds, TARGETS, LABELS)
    carton = m["per_class"]["carton"]
    assert carton["precision"] == pytest.approx(0.5) and carton["num_predictions"] == 2
    # The false positive scores higher than the true one: AP of carton is 0.5.
    assert carton["average_precision"] == pytest.approx(0.5, abs=0.01)


def test_iou_threshold_changes_the_result() -> None:
    # A box shifted by 4 px: IoU with the 10x10 ground truth is 60/140 = 0.43.
    targets = [_t([[0, 0, 10, 10]], [1])]
    preds = [_p([[0, 4, 10, 14]], [1], [0.9])]
    loose = detection_metrics(preds, targets, LABELS, iou_threshold=0.4)
    strict = detection_metrics(preds, targets, LABELS, iou_threshold=0.5)
    assert loose["mean_average_precision"] == pytest.approx(1.0)
    assert loose["per_class"]["can"]["recall"] == 1.0
    assert strict["mean_average_precision"] == pytest.approx(0.0)
    assert strict["per_class"]["can"]["recall"] == 0.0
    assert loose["map_50"] is None and strict["map_50"] == strict["map_voc"]


def test_crowd_boxes_are_ignored() -> None:
    targets = [_t([[0, 0, 10, 10], [50, 50, 90, 90]], [1, 1], iscrowd=[0, 1])]
    preds = [_p([[0, 0, 10, 10], [55, 55, 85, 85]], [1, 1], [0.6, 0.9])]
    m = detection_metrics(preds, targets, LABELS)
    can = m["per_class"]["can"]
    assert can["num_ground_truth"] == 1  # the crowd region is not ground truth
    assert can["precision"] == 1.0 and can["num_predictions"] == 1  # nor is hitting it an error
    assert m["mean_average_precision"] == pytest.approx(1.0)
    plain = [_t([[0, 0, 10, 10], [50, 50, 90, 90]], [1, 1], iscrowd=[0, 0])]
    assert detection_metrics(preds, plain, LABELS)["per_class"]["can"]["num_ground_truth"] == 2


def test_masks_are_evaluated_for_segmentation() -> None:
    gt_mask = torch.zeros(1, 32, 32, dtype=torch.bool)
    gt_mask[0, 4:20, 4:20] = True
    good = torch.zeros(1, 1, 32, 32)
    good[0, 0, 4:20, 4:20] = 0.9  # Mask R-CNN style probabilities
    bad = torch.zeros(1, 1, 32, 32)
    bad[0, 0, 4:20, 4:8] = 0.9  # same box, a quarter of the mask
    targets = [dict(_t([[4, 4, 20, 20]], [1]), masks=gt_mask)]
    for masks, expected in ((good, 1.0), (bad, 0.0)):
        preds = [dict(_p([[4, 4, 20, 20]], [1], [0.9]), masks=masks)]
        m = detection_metrics(preds, targets, LABELS, segmentation=True)
        assert m["mean_average_precision"] == pytest.approx(expected)
        assert m["box_mean_average_precision"] == pytest.approx(1.0)
        json.dumps(m, allow_nan=False)


def test_pr_curves_and_labels_without_ground_truth() -> None:
    preds = [_p([[0, 0, 10, 10]], [1], [0.9]), _p([[5, 5, 25, 25]], [1], [0.8])]
    targets = [_t([[0, 0, 10, 10]], [1]), _t([[5, 5, 25, 25]], [1])]
    m = detection_metrics(preds, targets, LABELS, metric_type="coco")
    assert set(m["pr_curves"]) == {"can"}
    curve = m["pr_curves"]["can"]
    assert len(curve["recall"]) == len(curve["precision"]) <= 101
    assert curve["precision"][0] == pytest.approx(1.0)
    assert m["per_class"]["carton"]["average_precision"] is None
    assert m["per_class"]["carton"]["recall"] is None


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="metric_type"):
        detection_metrics([], [], LABELS, metric_type="map")
    with pytest.raises(ValueError, match="iou_threshold"):
        detection_metrics([], [], LABELS, iou_threshold=0.0)
    empty = detection_metrics([], [], LABELS)
    assert empty["mean_average_precision"] is None and empty["num_images"] == 0


@pytest.mark.parametrize("segmentation", [False, True])
@pytest.mark.parametrize("metric_type", ["voc", "coco", "coco_voc"])
def test_no_detection_at_all_scores_zero(segmentation, metric_type) -> None:
    masks = torch.zeros(2, 16, 16, dtype=torch.bool)
    masks[0, 2:8, 2:8] = True
    masks[1, 9:14, 9:14] = True
    target = {
        "boxes": torch.tensor([[2.0, 2, 8, 8], [9, 9, 14, 14]]),
        "labels": torch.tensor([1, 2]),
    }
    pred = {
        "boxes": torch.zeros(0, 4),
        "scores": torch.zeros(0),
        "labels": torch.zeros(0, dtype=torch.long),
    }
    if segmentation:
        target["masks"] = masks
        pred["masks"] = torch.zeros(0, 1, 16, 16)
    result = detection_metrics(
        [pred], [target], ["a", "b"], metric_type=metric_type, segmentation=segmentation
    )
    assert result["mean_average_precision"] == 0.0
    assert {c["average_precision"] for c in result["per_class"].values()} == {0.0}
    assert result["recall"] == 0.0
