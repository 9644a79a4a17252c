"""Hyperparameter resolution: task defaults < model defaults < job < sampled parameters."""

from __future__ import annotations

import pytest

from automl_nb.config import load_job
from automl_nb.errors import ConfigError
from automl_nb.models import get_model_cfg
from automl_nb.training import resolve_hyperparameters
from automl_nb.training import select_model_name


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
    hp = resolve_hyperparameters(spec, {"training_batch_size": 4}, cfg)
    assert hp["optimizer"] == "sgd"  # task default
    assert hp["validation_batch_size"] == 78  # model default
    assert hp["learning_rate"] == 0.02  # job
    assert hp["training_batch_size"] == 4  # sampled
    assert hp["model_name"] == "resnet18"


def test_model_defaults_depend_on_the_model() -> None:
    spec = _spec()
    vit = resolve_hyperparameters(spec, {}, get_model_cfg("vitb16r224", spec.task))
    cnn = resolve_hyperparameters(spec, {}, get_model_cfg("resnet50", spec.task))
    assert (vit["training_batch_size"], vit["learning_rate"]) == (48, 0.0125)
    assert (cnn["training_batch_size"], cnn["learning_rate"]) == (78, 0.01)


def test_v1_names_are_accepted_and_floats_for_ints_are_rounded() -> None:
    spec = _spec("image_object_detection", box_score_thresh=0.2)
    cfg = get_model_cfg("fasterrcnn_resnet18_fpn", spec.task)
    hp = resolve_hyperparameters(spec, {"lr_scheduler": "step", "min_size": 600.0}, cfg)
    assert hp["box_score_threshold"] == 0.2
    assert hp["learning_rate_scheduler"] == "step"
    assert hp["min_size"] == 600 and isinstance(hp["min_size"], int)


def test_unknown_hyperparameter_names_the_nearest_valid_one() -> None:
    spec = _spec()
    cfg = get_model_cfg("resnet18", spec.task)
    with pytest.raises(ConfigError) as info:
        resolve_hyperparameters(spec, {"learning_rat": 0.1}, cfg)
    assert "learning_rate" in str(info.value)


def test_bad_sampled_value_is_a_located_error() -> None:
    spec = _spec()
    cfg = get_model_cfg("resnet18", spec.task)
    with pytest.raises(ConfigError, match="optimizer"):
        resolve_hyperparameters(spec, {"optimizer": "adamx"}, cfg)


def test_advanced_settings_merge_key_by_key() -> None:
    spec = _spec(advanced_settings='{"use_pretrained": false}')
    cfg = get_model_cfg("resnet18", spec.task)
    hp = resolve_hyperparameters(
        spec, {"advanced_settings": '{"apply_automl_train_augmentations": false}'}, cfg
    )
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
