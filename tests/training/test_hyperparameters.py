"""Trial settings resolution: table defaults < model family < job < sampled parameters."""

from __future__ import annotations

import pytest

from automl_nb.config import TrialConfig
from automl_nb.config import load_job
from automl_nb.config import resolve_trial_config
from automl_nb.config import select_model_name
from automl_nb.errors import ConfigError
from automl_nb.models import get_model_cfg
from automl_nb.testing.configs import trial_config


def _spec(task: str = "image_classification", **training) -> object:
    job = {
        "task": task,
        "target_column_name": "label",
        "training_data": {"path": "train.jsonl", "type": "uri_file"},
    }
    if training:
        job["training_parameters"] = training
    return load_job(job)


def test_precedence_of_the_four_layers() -> None:
    spec = _spec(learning_rate=0.02, training_batch_size=8)
    cfg = get_model_cfg("resnet18", spec.task)
    hp = resolve_trial_config(spec, {"training_batch_size": 4}, model_cfg=cfg).to_dict()
    assert hp["optimizer"] == "sgd"  # task default
    assert hp["validation_batch_size"] == 78  # model default
    assert hp["learning_rate"] == 0.02  # job
    assert hp["training_batch_size"] == 4  # sampled
    assert hp["model_name"] == "resnet18"


def test_model_defaults_depend_on_the_model() -> None:
    spec = _spec()
    vit = resolve_trial_config(
        spec, {}, model_cfg=get_model_cfg("vitb16r224", spec.task)
    ).to_dict()
    cnn = resolve_trial_config(spec, {}, model_cfg=get_model_cfg("resnet50", spec.task)).to_dict()
    assert (vit["training_batch_size"], vit["learning_rate"]) == (48, 0.0125)
    assert (cnn["training_batch_size"], cnn["learning_rate"]) == (78, 0.01)


def test_v1_names_are_accepted_and_floats_for_ints_are_rounded() -> None:
    spec = _spec("image_object_detection", box_score_thresh=0.2)
    cfg = get_model_cfg("fasterrcnn_resnet18_fpn", spec.task)
    hp = resolve_trial_config(
        spec, {"lr_scheduler": "step", "min_size": 600.0}, model_cfg=cfg
    ).to_dict()
    assert hp["box_score_threshold"] == 0.2
    assert hp["learning_rate_scheduler"] == "step"
    assert hp["min_size"] == 600 and isinstance(hp["min_size"], int)


def test_unknown_hyperparameter_names_the_nearest_valid_one() -> None:
    spec = _spec()
    cfg = get_model_cfg("resnet18", spec.task)
    with pytest.raises(ConfigError) as info:
        resolve_trial_config(spec, {"learning_rat": 0.1}, model_cfg=cfg).to_dict()
    assert "learning_rate" in str(info.value)


def test_bad_sampled_value_is_a_located_error() -> None:
    spec = _spec()
    cfg = get_model_cfg("resnet18", spec.task)
    with pytest.raises(ConfigError, match="optimizer"):
        resolve_trial_config(spec, {"optimizer": "adamx"}, model_cfg=cfg).to_dict()


def test_advanced_settings_merge_key_by_key() -> None:
    spec = _spec(advanced_settings='{"use_pretrained": false}')
    cfg = get_model_cfg("resnet18", spec.task)
    hp = resolve_trial_config(
        spec, {"advanced_settings": '{"apply_automl_train_augmentations": false}'}, model_cfg=cfg
    ).to_dict()
    assert hp["advanced_settings"]["use_pretrained"] is False
    assert hp["advanced_settings"]["apply_automl_train_augmentations"] is False
    assert hp["advanced_settings"]["stream_image_files"] is False


def test_model_name_sampled_then_job_then_task_default() -> None:
    assert (
        select_model_name(_spec(model_name="resnet34"), {"model_name": "resnet18"}) == "resnet18"
    )
    assert select_model_name(_spec(model_name="resnet34"), {}) == "resnet34"
    assert select_model_name(_spec(), None) == "vitb16r224"
    assert select_model_name(_spec("image_instance_segmentation"), {}) == "maskrcnn_resnet50_fpn"


def test_trial_config_has_one_attribute_per_table_parameter() -> None:
    from dataclasses import fields

    from automl_nb.config import TRAINING_FIELDS

    names = {f.name for f in fields(TrialConfig)} - {"task", "model_family"}
    assert names == set(TRAINING_FIELDS)


def test_zero_values_are_kept_not_replaced_by_defaults() -> None:
    det = _spec("image_object_detection", tile_overlap_ratio=0.0, tile_grid_size="2x2")
    cfg = resolve_trial_config(
        det, {}, model_cfg=get_model_cfg("fasterrcnn_resnet18_fpn", det.task)
    )
    assert cfg.tile_overlap_ratio == 0.0
    seg = _spec("image_instance_segmentation", mask_pixel_score_threshold=0.0, momentum=0.0)
    cfg = resolve_trial_config(seg, {}, model_cfg=get_model_cfg("maskrcnn_resnet18_fpn", seg.task))
    assert cfg.mask_pixel_score_threshold == 0.0 and cfg.momentum == 0.0


def test_unset_scheduler_and_momentum_take_the_reference_defaults() -> None:
    cfg = resolve_trial_config(
        _spec(), {}, model_cfg=get_model_cfg("resnet18", "image_classification")
    )
    assert cfg.learning_rate_scheduler == "warmup_cosine" and cfg.momentum == 0.9


def test_yolo_family_defaults_come_from_the_table() -> None:
    from automl_nb.config._fields import parameter_family
    from automl_nb.config._parameters import TRAINING_FIELDS

    spec = _spec("image_object_detection")
    entry = TRAINING_FIELDS["box_score_threshold"]
    assert entry.default_for(spec.task, parameter_family("yolov5", "yolo")) == 0.1
    assert entry.default_for(spec.task, "rcnn") == 0.3


def test_yolov5_averages_its_weights_by_default_and_others_do_not() -> None:
    detection = "image_object_detection"
    assert trial_config(detection, "yolov5").advanced_settings.model_ema
    off = trial_config(detection, "yolov5", advanced_settings={"model_ema": False})
    assert not off.advanced_settings.model_ema
    assert not trial_config(detection, "fasterrcnn_resnet18_fpn").advanced_settings.model_ema
    on = trial_config(advanced_settings={"model_ema": True, "model_ema_decay": 0.999})
    assert on.advanced_settings.model_ema and on.advanced_settings.model_ema_decay == 0.999
