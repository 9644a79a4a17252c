"""JobDraft: a job built cell by cell."""

from __future__ import annotations

import pytest

from automl_nb.config import BanditPolicy
from automl_nb.config import ConfigError
from automl_nb.config import JobDraft
from automl_nb.config import MedianStoppingPolicy
from automl_nb.config import load_job


def test_incomplete_draft_lists_what_is_missing():
    draft = JobDraft("image_object_detection")
    assert [p.path for p in draft.problems()] == ["target_column_name", "training_data"]
    assert not draft.is_complete
    with pytest.raises(ConfigError, match="not complete"):
        _ = draft.spec
    assert "task: image_object_detection" in draft.to_yaml()


def test_fragments_merge_deeply_and_lists_replace():
    draft = JobDraft()
    draft.merge("task: image_object_detection\ntarget_column_name: label\n")
    draft.merge({"training_data": {"path": "data/od", "type": "mltable"}})
    draft.merge("limits: {max_trials: 4}")
    draft.merge("limits: {max_concurrent_trials: 2}")
    draft.merge("training_parameters: {learning_rate: 0.01}")
    draft.merge("training_parameters: {optimizer: adam}")
    draft.merge("search_space:\n  - model_name: yolov5\n  - model_name: fasterrcnn_resnet50_fpn\n")
    draft.merge("search_space:\n  - model_name: yolov5\n")
    draft.merge("sweep: {sampling_algorithm: random}")
    spec = draft.spec
    assert spec.limits.max_trials == 4 and spec.limits.max_concurrent_trials == 2
    assert spec.training_parameters.to_dict() == {"learning_rate": 0.01, "optimizer": "adam"}
    assert spec.search_space == ({"model_name": "yolov5"},)
    assert load_job(draft.to_yaml()) == spec


def test_failed_merge_leaves_the_draft_unchanged():
    draft = JobDraft("image_classification").merge("training_parameters: {learning_rate: 0.01}")
    before = draft.to_yaml()
    with pytest.raises(ConfigError) as info:
        draft.merge(
            "training_parameters:\n  optimizer: sgd\n  learning_rat: 0.1\n", source="cell 4"
        )
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.suggestion) == ("cell 4", 3, "learning_rate")
    assert draft.to_yaml() == before
    assert "optimizer" not in draft.to_yaml()


def test_aliases_replace_their_v2_names_across_fragments():
    draft = JobDraft("image_object_detection")
    draft.merge("training_parameters: {box_score_threshold: 0.2}")
    draft.merge("training_parameters: {box_score_thresh: 0.4}")
    draft.merge("target_column_name: label\ntraining_data: data/x.jsonl\nsplit_ratio: 0.3")
    draft.merge("validation_data_size: 0.1")
    spec = draft.spec
    assert spec.training_parameters.box_score_threshold == 0.4
    assert spec.validation_data_size == 0.1


def test_changing_policy_type_replaces_the_policy():
    draft = JobDraft("image_classification")
    draft.merge(
        "sweep:\n  sampling_algorithm: random\n  early_termination: {type: bandit, slack_factor: 0.1}\n"
    )
    draft.merge("sweep:\n  early_termination: {type: median_stopping, delay_evaluation: 2}\n")
    draft.merge("target_column_name: label\ntraining_data: d\n")
    assert draft.spec.sweep.early_termination == MedianStoppingPolicy(delay_evaluation=2)
    draft.merge("sweep:\n  early_termination: {slack_factor: 0.3, type: bandit}\n")
    assert draft.spec.sweep.early_termination == BanditPolicy(slack_factor=0.3)


def test_task_errors_of_a_later_task_change_are_reported():
    draft = JobDraft("image_classification").merge("training_parameters: {weighted_loss: 2}")
    with pytest.raises(ConfigError, match="weighted_loss does not apply"):
        draft.merge("task: image_object_detection")
    assert "image_classification" in draft.to_yaml()


def test_empty_and_non_mapping_fragments():
    draft = JobDraft()
    assert draft.merge("") is draft
    with pytest.raises(ConfigError, match="must be a mapping"):
        draft.merge("- a\n")
    assert "task" in {p.path for p in draft.problems()}
    copy = draft.copy().merge("task: image_classification")
    assert "task" in {p.path for p in draft.problems()}
    assert "task" not in {p.path for p in copy.problems()}
    assert "JobDraft(task=None" in repr(draft)
