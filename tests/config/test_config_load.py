"""load_job / dump_job: sources, defaults, v1/v2 names, overrides, round trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl_nb.config import TRAINING_FIELDS
from automl_nb.config import BanditPolicy
from automl_nb.config import ConfigError
from automl_nb.config import DataInput
from automl_nb.config import JobSpec
from automl_nb.config import Limits
from automl_nb.config import TrainingParameters
from automl_nb.config import canonical_parameter_name
from automl_nb.config import default_training_parameters
from automl_nb.config import dump_job
from automl_nb.config import load_job
from automl_nb.config import parse_set_option
from automl_nb.config import settings_name
from automl_nb.tasks import Task

MINIMAL = """
task: image_object_detection
target_column_name: label
training_data:
  path: data/train
  type: mltable
"""


def test_minimal_job_gets_reference_defaults():
    spec = load_job(MINIMAL)
    assert spec.task is Task.OBJECT_DETECTION
    assert spec.primary_metric == "mean_average_precision"
    assert spec.training_data == DataInput("data/train", "mltable")
    assert spec.validation_data is None
    assert spec.validation_data_size == 0.2
    assert spec.limits == Limits(1, 1, 10080, 43200)
    assert spec.sweep is None
    assert spec.search_space == ()
    assert spec.compute == "local"
    assert spec.training_parameters == TrainingParameters()
    assert not spec.is_automode and not spec.is_sweep


def test_load_from_file_mapping_and_text_agree(tmp_path: Path):
    path = tmp_path / "job.yml"
    path.write_text(MINIMAL)
    from_file = load_job(path)
    from_str_path = load_job(str(path))
    from_text = load_job(MINIMAL)
    from_mapping = load_job(
        {
            "task": "image_object_detection",
            "target_column_name": "label",
            "training_data": {"path": "data/train", "type": "mltable"},
        }
    )
    assert from_file == from_str_path == from_text == from_mapping
    assert from_file.source_path == str(path.resolve())
    assert from_text.source_path is None


def test_resolve_path_is_relative_to_the_yaml_folder(tmp_path: Path):
    path = tmp_path / "jobs" / "job.yml"
    path.parent.mkdir()
    path.write_text(MINIMAL)
    spec = load_job(path)
    assert spec.resolve_path("data/train") == str(tmp_path / "jobs" / "data" / "train")
    assert spec.resolve_path("../d") == str(tmp_path / "d")
    for uri in ("azureml://datastores/x/paths/a", "s3://b/k", "/abs/p", "file:///x"):
        assert spec.resolve_path(uri) == uri
    assert load_job(MINIMAL).resolve_path("data/train") == "data/train"


def test_all_job_keys_including_azure_only_ones():
    spec = load_job(
        MINIMAL
        + """
$schema: https://azuremlsdk2.blob.core.windows.net/preview/0.0.1/autoMLJob.schema.json
type: automl
name: job-1
display_name: Fridge
experiment_name: fridge-exp
description: a job
tags: {owner: me, n: 3}
compute: azureml:gpu-cluster
log_verbosity: DEBUG
primary_metric: mean_average_precision
validation_data: {path: data/valid, type: mltable, mode: ro_mount}
validation_data_size: 0.3
"""
    )
    assert spec.name == "job-1" and spec.display_name == "Fridge"
    assert spec.experiment_name == "fridge-exp" and spec.description == "a job"
    assert spec.tags == {"owner": "me", "n": "3"}
    assert spec.compute == "azureml:gpu-cluster"
    assert spec.log_verbosity == "debug"
    assert spec.validation_data == DataInput("data/valid", "mltable", "ro_mount")
    assert spec.validation_data_size == 0.3
    assert spec.schema.endswith("autoMLJob.schema.json")


def test_data_input_as_plain_path_infers_type():
    spec = load_job(
        "task: image_classification\ntarget_column_name: label\n"
        "training_data: data/train.jsonl\nvalidation_data: data/valid\n"
    )
    assert spec.training_data == DataInput("data/train.jsonl", "jsonl")
    assert spec.validation_data == DataInput("data/valid", "mltable")


@pytest.mark.parametrize("metric", ["mean_average_precision", "MeanAveragePrecision", None])
def test_primary_metric_spellings(metric):
    data = load_job(MINIMAL).to_dict()
    data["primary_metric"] = metric
    assert load_job(data).primary_metric == "mean_average_precision"


def test_limits_aliases_and_cap():
    spec = load_job(
        MINIMAL + "limits: {iterations: 5, max_concurrent_iterations: 8, "
        "experiment_timeout_hours: 2}\n"
    )
    assert spec.limits.max_trials == 5
    assert spec.limits.max_concurrent_trials == 5  # capped at max_trials
    assert spec.limits.timeout_minutes == 120
    assert spec.is_automode


def test_older_preview_sweep_limits():
    spec = load_job(
        MINIMAL
        + "sweep:\n  limits: {max_trials: 7, max_concurrent_trials: 3}\n"
        + "  sampling_algorithm: grid\n"
    )
    assert spec.limits.max_trials == 7 and spec.limits.max_concurrent_trials == 3
    assert spec.sweep.sampling_algorithm == "grid"


V1 = """
task: image_object_detection
target_column_name: label
training_data: {path: data/train, type: mltable}
split_ratio: 0.25
training_parameters:
  box_score_thresh: 0.4
  nms_iou_thresh: 0.45
  box_detections_per_img: 50
  tile_predictions_nms_thresh: 0.3
  img_size: 512
  model_size: xlarge
  lr_scheduler: step
  grad_accumulation_step: 2
  amsgrad: 1
sweep: {hyperparameter_sampling: random, early_termination_policy: {type: Bandit, slack_amount: 0.1}}
search_space:
  - box_iou_thresh: "choice(0.4, 0.5)"
    img_size: {type: choice, values: [320, 640]}
"""

V2 = """
task: image_object_detection
target_column_name: label
training_data: {path: data/train, type: mltable}
validation_data_size: 0.25
training_parameters:
  box_score_threshold: 0.4
  nms_iou_threshold: 0.45
  box_detections_per_image: 50
  tile_predictions_nms_threshold: 0.3
  image_size: 512
  model_size: extra_large
  learning_rate_scheduler: step
  gradient_accumulation_step: 2
  ams_gradient: true
sweep:
  sampling_algorithm: random
  early_termination: {type: bandit, slack_amount: 0.1}
search_space:
  - nms_iou_threshold: {type: choice, values: [0.4, 0.5]}
    image_size: {type: choice, values: [320, 640]}
"""


def test_v1_and_v2_names_give_the_same_spec():
    v1, v2 = load_job(V1), load_job(V2)
    assert v1 == v2
    assert v1.training_parameters.box_score_threshold == 0.4
    assert v1.sweep.early_termination == BanditPolicy(slack_amount=0.1)
    dumped = dump_job(v1)
    assert "box_score_threshold" in dumped and "box_score_thresh:" not in dumped


def test_v1_split_ratio_inside_training_parameters():
    spec = load_job(MINIMAL + "training_parameters: {split_ratio: 0.1}\n")
    assert spec.validation_data_size == 0.1


@pytest.mark.parametrize("text", ["True", "true", "1", 1, True, "yes"])
def test_flags_accept_many_spellings(text):
    spec = load_job(
        {**load_job(MINIMAL).to_dict(), "training_parameters": {"early_stopping": text}}
    )
    assert spec.training_parameters.early_stopping is True


@pytest.mark.parametrize("grid", ["3x2", "(3, 2)", "3,2", [3, 2]])
def test_tile_grid_size_forms(grid):
    data = load_job(MINIMAL).to_dict()
    data["training_parameters"] = {"tile_grid_size": grid}
    spec = load_job(data)
    assert spec.training_parameters.tile_grid_size == (3, 2)
    assert "tile_grid_size: 3x2" in dump_job(spec)


def test_advanced_settings_json_string_or_mapping():
    text = (
        MINIMAL + "training_parameters:\n  advanced_settings: '{\"stream_image_files\": true}'\n"
    )
    from_string = load_job(text)
    data = load_job(MINIMAL).to_dict()
    data["training_parameters"] = {"advanced_settings": {"stream_image_files": "true"}}
    assert from_string == load_job(data)
    assert from_string.training_parameters.advanced_settings == {"stream_image_files": True}
    assert "advanced_settings: '{\"stream_image_files\": true}'" in dump_job(from_string)
    custom = load_job(
        MINIMAL + 'training_parameters:\n  advanced_settings: \'{"use_pretrained": false, '
        '"my_switch": 3}\'\n'
    )
    assert custom.training_parameters.advanced_settings == {
        "use_pretrained": False,
        "my_switch": 3,
    }


def test_properties_and_outputs():
    spec = load_job(
        MINIMAL + "properties: {node_count_per_trial: '2', note: x}\n"
        "outputs: {best_model: {type: mlflow_model}}\n"
    )
    assert spec.properties == {"node_count_per_trial": 2, "note": "x"}
    assert spec.outputs == {"best_model": {"type": "mlflow_model"}}
    assert "node_count_per_trial: '2'" in dump_job(spec)
    assert load_job(MINIMAL + "properties: {node_count_per_trial: 3}\n").properties == {
        "node_count_per_trial": 3
    }


def test_round_trip_keeps_meaning():
    spec = load_job(V1)
    again = load_job(dump_job(spec))
    assert again == spec
    assert load_job(dump_job(again)) == again
    assert load_job(spec.to_dict()) == spec


def test_training_parameters_to_dict_only_set_keys():
    spec = load_job(MINIMAL + "training_parameters: {learning_rate: '1e-3', min_size: 800}\n")
    assert spec.training_parameters.to_dict() == {"learning_rate": 0.001, "min_size": 800}
    assert spec.training_parameters.number_of_epochs is None


def test_overrides_apply_before_validation():
    spec = load_job(
        MINIMAL + "training_parameters: {lr_scheduler: step}\n",
        overrides={
            "training_parameters.learning_rate": 0.01,
            "training_parameters.learning_rate_scheduler": "none",
            "limits.max_trials": "3",
        },
    )
    assert spec.training_parameters.learning_rate == 0.01
    assert spec.training_parameters.learning_rate_scheduler == "none"
    assert spec.limits.max_trials == 3


def test_bad_override_names_the_set_option():
    with pytest.raises(ConfigError) as info:
        load_job(MINIMAL, overrides={"training_parameters.learning_rate": 5})
    problem = info.value.problems[0]
    assert problem.file == "--set"
    assert problem.path == "training_parameters.learning_rate"
    assert "must be in [0, 1]" in problem.message


def test_parse_set_option():
    assert parse_set_option("training_parameters.learning_rate=0.01") == (
        "training_parameters.learning_rate",
        0.01,
    )
    assert parse_set_option("a.b=true") == ("a.b", True)
    assert parse_set_option("x=uniform(0.1, 0.2)") == ("x", "uniform(0.1, 0.2)")
    assert parse_set_option("x=") == ("x", None)
    with pytest.raises(ConfigError):
        parse_set_option("no-equals-sign")


def test_canonical_parameter_name_and_settings_name():
    assert canonical_parameter_name("box_score_thresh") == "box_score_threshold"
    assert canonical_parameter_name("valid_crop_size") == "validation_crop_size"
    assert canonical_parameter_name("split_ratio") == "validation_data_size"
    assert canonical_parameter_name("lr_scheduler") == "learning_rate_scheduler"
    assert canonical_parameter_name("grad_accumulation_step") == "gradient_accumulation_step"
    assert canonical_parameter_name("learning_rate") == "learning_rate"
    with pytest.raises(ConfigError) as info:
        canonical_parameter_name("learning_rat")
    assert info.value.problems[0].suggestion == "learning_rate"
    assert settings_name("box_score_threshold") == "box_score_thresh"
    assert settings_name("nms_iou_threshold") == "nms_iou_thresh"
    assert settings_name("box_detections_per_image") == "box_detections_per_img"
    assert settings_name("validation_crop_size") == "valid_crop_size"
    assert settings_name("image_size") == "img_size"
    assert settings_name("min_size") == "min_size"


def test_default_training_parameters_are_model_independent():
    cls = default_training_parameters("image_classification")
    assert cls["model_name"] == "vitb16r224"
    assert cls["number_of_epochs"] == 15 and cls["optimizer"] == "sgd"
    assert cls["momentum"] == 0.9 and cls["weighted_loss"] == 0
    for key in ("training_batch_size", "learning_rate", "validation_crop_size"):
        assert key not in cls
    od = default_training_parameters(Task.OBJECT_DETECTION)
    assert od["model_name"] == "yolov5"
    assert od["validation_metric_type"] == "voc" and "box_score_threshold" not in od
    seg = default_training_parameters("image_instance_segmentation", "maskrcnn_resnet18_fpn")
    assert seg["model_name"] == "maskrcnn_resnet18_fpn"
    assert seg["mask_pixel_score_threshold"] == 0.5 and seg["image_type"] == "jpg"
    assert default_training_parameters("image_classification_multilabel")["model_name"] == (
        "vitb16r224"
    )
    # Every default is itself a valid value of its field.
    for task in Task:
        for key, value in default_training_parameters(task).items():
            assert TRAINING_FIELDS[key].parse(value) == value


def test_training_parameters_dataclass_matches_the_field_table():
    from dataclasses import fields

    assert [f.name for f in fields(TrainingParameters)] == list(TRAINING_FIELDS)


def test_jobspec_is_frozen_and_source_path_not_compared(tmp_path: Path):
    path = tmp_path / "j.yml"
    path.write_text(MINIMAL)
    spec = load_job(path)
    with pytest.raises(AttributeError):
        spec.task = Task.CLASSIFICATION  # type: ignore[misc]
    assert spec == load_job(MINIMAL)
    assert JobSpec(task="image_object_detection").primary_metric == "mean_average_precision"
