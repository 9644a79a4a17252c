"""settings.json names and defaults, overrides by v1 or v2 name, and the schema checker."""

from __future__ import annotations

import pytest

from automl_nb.errors import ConfigError
from automl_nb.inference import SchemaError
from automl_nb.inference import canonical_setting_name
from automl_nb.inference import default_inference_settings
from automl_nb.inference import prediction_problems
from automl_nb.inference import validate_prediction
from automl_nb.inference._settings import merge_settings
from automl_nb.inference._settings import parse_tile_grid_size


def test_classification_defaults_use_v1_names():
    settings = default_inference_settings("image_classification", "resnet18")
    assert settings["valid_resize_size"] == 256
    assert settings["valid_crop_size"] == 224
    assert settings["model_name"] == "resnet18"
    assert settings["task"] == "image_classification"
    assert "validation_crop_size" not in settings
    assert "min_size" not in settings


def test_detection_and_segmentation_defaults():
    det = default_inference_settings("image_object_detection", "fasterrcnn_resnet50_fpn")
    assert {k: det[k] for k in ("min_size", "max_size", "box_score_thresh")} == {
        "min_size": 600,
        "max_size": 1333,
        "box_score_thresh": 0.3,
    }
    assert det["nms_iou_thresh"] == 0.5
    assert det["box_detections_per_img"] == 100
    assert det["tile_grid_size"] is None
    assert det["tile_overlap_ratio"] == 0.25
    assert det["tile_predictions_nms_thresh"] == 0.25
    assert "mask_pixel_score_threshold" not in det
    seg = default_inference_settings("image_instance_segmentation", "maskrcnn_resnet50_fpn")
    assert seg["mask_pixel_score_threshold"] == 0.5
    assert seg["max_number_of_polygon_points"] == 100
    assert seg["export_as_image"] is False
    assert seg["image_type"] == "jpg"
    yolo = default_inference_settings("image_object_detection", "yolov5")
    assert yolo["box_score_thresh"] == 0.1
    assert yolo["img_size"] == 640
    assert "min_size" not in yolo


def test_hyperparameters_in_v2_names_fill_settings():
    settings = default_inference_settings(
        "image_object_detection",
        "fasterrcnn_resnet50_fpn",
        {"box_score_threshold": 0.45, "tile_grid_size": "(3, 2)", "learning_rate": 0.1},
    )
    assert settings["box_score_thresh"] == 0.45
    assert settings["tile_grid_size"] == "3x2"
    assert "learning_rate" not in settings
    cls = default_inference_settings(
        "image_classification", "resnet18", {"validation_crop_size": 64}
    )
    assert cls["valid_crop_size"] == 64


def test_overrides_are_converted_and_checked():
    base = default_inference_settings("image_object_detection", "fasterrcnn_resnet50_fpn")
    merged = merge_settings(
        base,
        {"nms_iou_threshold": "0.3", "box_detections_per_image": "7", "tile_grid_size": "2x2"},
        "image_object_detection",
    )
    assert merged["nms_iou_thresh"] == 0.3
    assert merged["box_detections_per_img"] == 7
    assert merged["tile_grid_size"] == "2x2"
    with pytest.raises(ConfigError) as info:
        merge_settings(
            base,
            {"box_score": 0.5, "valid_crop_size": 64, "nms_iou_thresh": 2, "min_size": "big"},
            "image_object_detection",
        )
    text = str(info.value)
    assert "did you mean 'box_score_thresh'" in text
    assert "not an inference setting for image_object_detection" in text
    assert "must be <= 1" in text
    assert "must be a number" in text


def test_canonical_names_and_grid_parsing():
    assert canonical_setting_name("validation_crop_size") == "valid_crop_size"
    assert canonical_setting_name("box_nms_thresh") == "nms_iou_thresh"
    assert parse_tile_grid_size("3x2") == (3, 2)
    assert parse_tile_grid_size([2, 4]) == (2, 4)
    assert parse_tile_grid_size(None) is None
    with pytest.raises(ValueError):
        parse_tile_grid_size("three by two")


GOOD_DETECTION = {
    "boxes": [
        {
            "box": {"topX": 0.1, "topY": 0.2, "bottomX": 0.5, "bottomY": 0.6},
            "label": "can",
            "score": 0.9,
            "polygon": [[0.1, 0.2, 0.5, 0.2, 0.5, 0.6]],
        }
    ]
}


def test_schema_checker_accepts_the_reference_examples():
    validate_prediction(
        [{"probs": [0.1, 0.2, 0.7], "labels": ["a", "b", "c"]}], "image_classification"
    )
    validate_prediction(
        {"probs": [0.9, 0.8], "labels": ["a", "b"]}, "image_classification_multilabel"
    )
    validate_prediction(GOOD_DETECTION, "image_instance_segmentation")
    boxes_only = {
        "boxes": [{k: v for k, v in GOOD_DETECTION["boxes"][0].items() if k != "polygon"}]
    }
    validate_prediction(boxes_only, "image_object_detection")
    validate_prediction({"boxes": []}, "image_object_detection")


@pytest.mark.parametrize(
    ("pred", "task", "problem"),
    [
        ({"probs": [0.2, 0.2], "labels": ["a", "b"]}, "image_classification", "sum to 1"),
        ({"probs": [1.2], "labels": ["a"]}, "image_classification_multilabel", "[0, 1]"),
        ({"probs": [0.5], "labels": ["a", "b"]}, "image_classification_multilabel", "1 probs"),
        (
            {"boxes": [{"box": {"topX": 0.1}, "label": "a", "score": 0.5}]},
            "image_object_detection",
            "box keys",
        ),
        (
            {
                "boxes": [
                    {
                        "box": {"topX": 0.6, "topY": 0.1, "bottomX": 0.5, "bottomY": 0.2},
                        "label": "a",
                        "score": 0.5,
                    }
                ]
            },
            "image_object_detection",
            "inverted",
        ),
        (
            {
                "boxes": [
                    {
                        "box": {"topX": 0.1, "topY": 0.1, "bottomX": 0.5, "bottomY": 1.5},
                        "label": "a",
                        "score": 0.5,
                    }
                ]
            },
            "image_object_detection",
            "[0, 1]",
        ),
        (
            {
                "boxes": [
                    {
                        "box": {"topX": 0.1, "topY": 0.1, "bottomX": 0.5, "bottomY": 0.5},
                        "label": "a",
                        "score": 0.5,
                    }
                ]
            },
            "image_instance_segmentation",
            "polygon",
        ),
        (
            {
                "boxes": [
                    {
                        "box": {"topX": 0.1, "topY": 0.1, "bottomX": 0.5, "bottomY": 0.5},
                        "label": "a",
                        "score": 0.5,
                        "polygon": [[0.1, 0.2, 0.3, 0.4, 0.5]],
                    }
                ]
            },
            "image_instance_segmentation",
            "even number",
        ),
    ],
)
def test_schema_checker_reports_problems(pred, task, problem):
    problems = prediction_problems(pred, task)
    assert any(problem in p for p in problems), problems
    with pytest.raises(SchemaError):
        validate_prediction(pred, task)
