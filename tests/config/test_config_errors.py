"""Every kind of job error is a located ConfigError: file, line, key path, value, suggestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl_nb.config import load_job
from automl_nb.errors import ConfigError

HEAD = """task: image_object_detection
target_column_name: label
training_data: {path: data/train, type: mltable}
"""


def _problems(text: str, tmp_path: Path, name: str = "job.yml"):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_job(path)
    return str(path), info.value


def test_unknown_training_parameter_suggests_and_locates(tmp_path):
    file, error = _problems(HEAD + "training_parameters:\n  learning_rat: 0.01\n", tmp_path)
    (problem,) = error.problems
    assert (problem.file, problem.line) == (file, 5)
    assert problem.path == "training_parameters.learning_rat"
    assert problem.suggestion == "learning_rate"
    assert f"{file}:5: training_parameters.learning_rat" in str(error)
    assert "did you mean 'learning_rate'?" in str(error)


def test_all_problems_are_collected(tmp_path):
    text = (
        "task: image_object_detection\n"  # 1
        "target_column_name: label\n"  # 2
        "training_data: {path: data/train, typo: x}\n"  # 3
        "limts: {max_trials: 2}\n"  # 4
        "limits: {max_trials: 0, max_concurrent_trials: 101}\n"  # 5
        "training_parameters:\n"  # 6
        "  learning_rate: 3\n"  # 7
        "  optimizer: adm\n"  # 8
        "  validation_iou_threshold: 0.05\n"  # 9
        "  tile_overlap_ratio: 1.0\n"  # 10
        "  model_size: huge\n"  # 11
        "  validation_metric_type: cocovoc\n"  # 12
        "  learning_rate_scheduler: linear\n"  # 13
        "  number_of_epochs: 2.5\n"  # 14
        "  early_stopping: 2\n"  # 15
        "  tile_grid_size: 3y\n"  # 16
        "  weighted_loss: 1\n"  # 17
    )
    _, error = _problems(text, tmp_path)
    by_path = {p.path: p for p in error.problems}
    expected = {
        "training_data.typo": 3,
        "limts": 4,
        "limits.max_trials": 5,
        "limits.max_concurrent_trials": 5,
        "training_parameters.learning_rate": 7,
        "training_parameters.optimizer": 8,
        "training_parameters.validation_iou_threshold": 9,
        "training_parameters.tile_overlap_ratio": 10,
        "training_parameters.model_size": 11,
        "training_parameters.validation_metric_type": 12,
        "training_parameters.learning_rate_scheduler": 13,
        "training_parameters.number_of_epochs": 14,
        "training_parameters.early_stopping": 15,
        "training_parameters.tile_grid_size": 16,
        "training_parameters.weighted_loss": 17,
    }
    assert {k: by_path[k].line for k in expected} == expected
    assert by_path["limts"].suggestion == "limits"
    assert by_path["training_data.typo"].suggestion == "type"
    assert by_path["training_parameters.optimizer"].suggestion == "adam"
    assert by_path["training_parameters.optimizer"].value == "'adm'"
    assert by_path["training_parameters.validation_metric_type"].suggestion == "coco_voc"
    assert "[0.1, 1]" in by_path["training_parameters.validation_iou_threshold"].message
    assert "[0, 1)" in by_path["training_parameters.tile_overlap_ratio"].message
    assert "1000" in by_path["limits.max_trials"].message
    assert "100" in by_path["limits.max_concurrent_trials"].message
    assert "does not apply to image_object_detection" in (
        by_path["training_parameters.weighted_loss"].message
    )
    assert str(error).startswith(f"invalid job spec in {tmp_path / 'job.yml'} (15 problems)")


def test_missing_required_keys(tmp_path):
    _, error = _problems("limits: {max_trials: 2}\n", tmp_path)
    paths = {p.path for p in error.problems}
    assert paths == {"task", "target_column_name", "training_data"}


@pytest.mark.parametrize(
    ("line", "path", "fragment"),
    [
        ("task: image_clasification", "task", "image_classification"),
        ("type: command", "type", None),
        ("log_verbosity: verbose", "log_verbosity", None),
        ("validation_data_size: 1.0", "validation_data_size", None),
        ("primary_metric: accuracy", "primary_metric", None),
        ("primary_metric: map", "primary_metric", None),
        ("tags: [a, b]", "tags", None),
        ("properties: {node_count_per_trial: zero}", "properties.node_count_per_trial", None),
        ("outputs: {best_model: {type: custom_model}}", "outputs.best_model.type", None),
        ("outputs: {best_modl: {type: mlflow_model}}", "outputs.best_modl", "best_model"),
        ("validation_data: {path: d, type: csv}", "validation_data.type", None),
        ("sweep: {sampling_algorithm: randm}", "sweep.sampling_algorithm", "random"),
        ("sweep: {sampling: random}", "sweep.sampling", "sampling_algorithm"),
    ],
)
def test_job_level_errors(tmp_path, line, path, fragment):
    base = HEAD if not line.startswith("task") else HEAD.split("\n", 1)[1]
    _, error = _problems(base + line + "\n", tmp_path)
    located = [p for p in error.problems if p.path == path]
    assert located, str(error)
    assert located[0].line == base.count("\n") + 1
    if fragment:
        assert located[0].suggestion == fragment


def test_key_of_another_task(tmp_path):
    text = HEAD.replace("image_object_detection", "image_classification")
    _, error = _problems(text + "training_parameters:\n  box_score_threshold: 0.3\n", tmp_path)
    (problem,) = error.problems
    assert problem.line == 5
    assert "only to image_object_detection, image_instance_segmentation" in problem.message


def test_yolo_keys_are_detection_only_and_mask_keys_segmentation_only(tmp_path):
    text = HEAD.replace("image_object_detection", "image_instance_segmentation")
    _, error = _problems(text + "training_parameters:\n  model_size: small\n", tmp_path)
    assert "only to image_object_detection" in error.problems[0].message
    _, error = _problems(HEAD + "training_parameters:\n  image_type: png\n", tmp_path)
    assert "only to image_instance_segmentation" in error.problems[0].message


def test_alias_and_v2_name_together(tmp_path):
    _, error = _problems(
        HEAD + "training_parameters:\n  box_score_thresh: 0.1\n  box_score_threshold: 0.2\n",
        tmp_path,
    )
    (problem,) = error.problems
    assert problem.line == 6 and "given twice" in problem.message


def test_duplicate_yaml_key(tmp_path):
    _, error = _problems(HEAD + "limits:\n  max_trials: 2\n  max_trials: 3\n", tmp_path)
    (problem,) = error.problems
    assert problem.line == 6 and "twice" in problem.message
    assert problem.path == "limits.max_trials"


def test_invalid_yaml_syntax(tmp_path):
    file, error = _problems(HEAD + "limits: {max_trials: 2\n", tmp_path)
    (problem,) = error.problems
    assert problem.file == file and problem.line is not None
    assert problem.message.startswith("invalid YAML")


def test_not_a_mapping_and_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_job("- a\n- b\n")
    with pytest.raises(ConfigError, match="cannot read the job file"):
        load_job(tmp_path / "missing.yml")
    with pytest.raises(ConfigError):
        load_job(42)


def test_advanced_settings_errors(tmp_path):
    _, error = _problems(
        HEAD + "training_parameters:\n  advanced_settings: '{bad json'\n", tmp_path
    )
    assert "JSON object string" in error.problems[0].message
    assert error.problems[0].line == 5
    _, error = _problems(
        HEAD + "training_parameters:\n  advanced_settings: '{\"stream_image_file\": true}'\n",
        tmp_path,
    )
    assert error.problems[0].suggestion == "stream_image_files"
    _, error = _problems(
        HEAD + "training_parameters:\n  advanced_settings: '{\"stream_image_files\": 5}'\n",
        tmp_path,
    )
    assert "stream_image_files must be 0 or 1" in error.problems[0].message


def test_early_termination_errors_are_located(tmp_path):
    text = HEAD + (
        "sweep:\n"  # 4
        "  sampling_algorithm: random\n"  # 5
        "  early_termination:\n"  # 6
        "    type: bandit\n"  # 7
        "    slack_factor: 0.1\n"  # 8
        "    slack_amount: 0.2\n"  # 9
    )
    _, error = _problems(text, tmp_path)
    assert "exactly one of slack_factor and slack_amount" in str(error)
    assert error.problems[0].path == "sweep.early_termination"
    assert error.problems[0].line == 7
    _, error = _problems(text.replace("bandit", "bandt"), tmp_path)
    assert error.problems[0].suggestion == "bandit"
    assert error.problems[0].path == "sweep.early_termination.type"
    assert error.problems[0].line == 7
    _, error = _problems(
        HEAD + "sweep:\n  sampling_algorithm: random\n  early_termination:\n"
        "    type: median_stopping\n    slack_factor: 0.1\n",
        tmp_path,
    )
    assert error.problems[0].path == "sweep.early_termination.slack_factor"
    assert error.problems[0].line == 8


def test_search_space_without_sweep_is_an_error(tmp_path):
    _, error = _problems(
        HEAD + "search_space:\n  - learning_rate: 'uniform(0.001, 0.01)'\n", tmp_path
    )
    assert [p.path for p in error.problems] == ["sweep"]


def test_grid_sampling_takes_only_choice(tmp_path):
    text = HEAD + (
        "sweep: {sampling_algorithm: grid}\n"
        "search_space:\n"
        "  - learning_rate: {type: uniform, min_value: 0.001, max_value: 0.01}\n"
        "    optimizer: {type: choice, values: [sgd, adam]}\n"
    )
    _, error = _problems(text, tmp_path)
    (problem,) = error.problems
    assert problem.path == "search_space[0].learning_rate" and problem.line == 6
    assert "grid" in problem.message


def test_keys_that_are_not_text_are_located_at_their_line(tmp_path):
    file, error = _problems(HEAD + "5: x\n~: y\ntraining_parameters:\n  true: 1\n", tmp_path)
    lines = {problem.line for problem in error.problems}
    assert {4, 5, 7} <= lines, [str(p) for p in error.problems]
    assert all(problem.file == file for problem in error.problems)
