"""Verbs that need no job: the draft, help, models, data checks; every verb's --help and
usage errors, all through a real InteractiveShell."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from automl_nb.config import JobDraft
from automl_nb.errors import ConfigError
from automl_nb.notebook import automl_vision
from automl_nb.notebook import current_draft
from automl_nb.notebook import set_draft
from automl_nb.notebook._results import HelpText
from automl_nb.notebook.verbs import VERBS
from automl_nb.testing.datasets import make_dataset

BAD_ARGUMENTS = {
    "new": "new",
    "config": "config --bogus",
    "show": "show extra",
    "data": "data --per-page many",
    "check": "check --input-size big",
    "builder": "builder extra",
    "sweep": "sweep extra",
    "plan": "plan job.yml --no-such-option",
    "submit": "submit --timeout soon",
    "jobs": "jobs --last some",
    "status": "status one two",
    "trials": "trials one two",
    "dashboard": "dashboard --refresh fast",
    "cancel": "cancel one two",
    "resume": "resume one two",
    "best": "best one two",
    "predict": "predict",
    "explain": "explain",
    "deploy": "deploy --port high",
    "export": "export --format bogus -o out",
    "models": "models --bogus",
    "help": "help one two",
}


def test_every_verb_has_a_bad_argument_case():
    assert set(BAD_ARGUMENTS) == set(VERBS)


@pytest.mark.parametrize("verb", VERBS)
def test_help_of_every_verb(ip, verb):
    result = ip.run_line_magic("automl_vision", f"{verb} --help")
    assert isinstance(result, HelpText)
    assert f"usage: %automl_vision {verb}" in repr(result)
    assert result.to_text() == ip.run_line_magic("automl_vision", f"help {verb}").to_text()


@pytest.mark.parametrize("verb", VERBS)
def test_bad_arguments_are_a_usage_error(ip, verb):
    with pytest.raises(UsageError, match=rf"%automl_vision {verb}"):
        ip.run_line_magic("automl_vision", BAD_ARGUMENTS[verb])


def test_new_starts_a_draft_with_name_and_experiment(ip):
    view = ip.run_line_magic(
        "automl_vision", "new object_detection --name fridge --experiment demo"
    )
    assert view.draft is current_draft()
    data = current_draft().to_dict()
    assert (data["task"], data["name"], data["experiment_name"]) == (
        "image_object_detection",
        "fridge",
        "demo",
    )
    assert not view.is_complete
    assert "training_data is required" in " ".join(view.missing)
    assert "incomplete: 2 missing" in view._repr_html_()


def test_new_with_an_unknown_task(ip):
    with pytest.raises(UsageError, match="did you mean 'image_classification'"):
        ip.run_line_magic("automl_vision", "new image_clasification")


def test_config_cells_merge_into_the_draft(ip):
    ip.run_line_magic("automl_vision", "new classification")
    ip.run_cell_magic(
        "automl_vision",
        "config",
        "training_data: {path: data/train.jsonl, type: jsonl}\ntarget_column_name: label\n",
    )
    view = ip.run_cell_magic(
        "automl_vision",
        "config",
        "training_parameters:\n  learning_rate: 0.01\n  valid_crop_size: 32\n",
    )
    assert view.is_complete
    spec = current_draft().spec
    assert spec.training_parameters.learning_rate == 0.01
    assert spec.training_parameters.validation_crop_size == 32
    assert "learning_rate: 0.01" in ip.run_line_magic("automl_vision", "show").yaml


def test_a_bad_config_cell_names_key_and_cell_line_and_keeps_the_draft(ip):
    ip.run_line_magic("automl_vision", "new classification")
    ip.run_cell_magic("automl_vision", "config", "limits: {max_trials: 4}\n")
    before = current_draft().to_yaml()
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic(
            "automl_vision",
            "config",
            "limits: {max_trials: 2}\ntraining_parameters:\n  learnin_rate: 0.1\n",
        )
    # The magic is line 1 of the notebook cell, so the bad key is on line 4.
    assert "cell:4: training_parameters.learnin_rate" in str(info.value)
    assert "did you mean 'learning_rate'" in str(info.value)
    assert current_draft().to_yaml() == before
    assert current_draft().to_dict()["limits"]["max_trials"] == 4


def test_config_from_a_file_and_the_cell_body_rules(ip, tmp_path):
    path = tmp_path / "part.yml"
    path.write_text("target_column_name: label\n", encoding="utf-8")
    ip.run_line_magic("automl_vision", "new multilabel")
    ip.run_line_magic("automl_vision", f"config --file {path}")
    assert current_draft().to_dict()["target_column_name"] == "label"
    with pytest.raises(UsageError, match="config needs YAML"):
        ip.run_line_magic("automl_vision", "config")
    with pytest.raises(UsageError, match="takes no cell body"):
        ip.run_cell_magic("automl_vision", "show", "limits: {max_trials: 2}")


def test_magics_and_python_share_the_draft(ip, tmp_path):
    ip.run_line_magic("automl_vision", "new classification")
    current_draft().merge({"training_parameters": {"number_of_epochs": 7}})
    assert "number_of_epochs: 7" in ip.run_line_magic("automl_vision", "show").yaml
    set_draft(JobDraft("image_object_detection"))
    assert "image_object_detection" in ip.run_line_magic("automl_vision", "show").yaml
    saved = tmp_path / "draft.yml"
    ip.run_line_magic("automl_vision", f"show --save {saved}")
    assert set_draft(saved).to_dict()["task"] == "image_object_detection"


def test_python_api_raises_the_package_errors(ip):
    automl_vision("new classification")
    with pytest.raises(ConfigError, match="must be in"):
        automl_vision("config", "limits: {max_trials: 0}")


def test_submit_an_incomplete_draft_lists_what_is_missing(ip):
    ip.run_line_magic("automl_vision", "new classification")
    with pytest.raises(UsageError, match="training_data is required"):
        ip.run_line_magic("automl_vision", "submit")


def test_job_verbs_without_a_job(ip):
    with pytest.raises(UsageError, match="no job yet"):
        ip.run_line_magic("automl_vision", "status")
    with pytest.raises(UsageError, match="no job 'nope'"):
        ip.run_line_magic("automl_vision", "trials nope")
    assert ip.run_line_magic("automl_vision", "jobs").rows == []


def test_models_for_the_draft_task_and_a_pattern(ip):
    ip.run_line_magic("automl_vision", "new detection")
    names = [row[0] for row in ip.run_line_magic("automl_vision", "models").rows]
    assert "fasterrcnn_resnet50_fpn" in names and "resnet50" not in names
    rows = ip.run_line_magic(
        "automl_vision", "models --task classification --pattern resnet1*"
    ).rows
    assert {row[0] for row in rows} >= {"resnet18", "resnet101"}
    assert all(row[0].startswith("resnet1") for row in rows)


def test_data_and_check_need_data(ip):
    ip.run_line_magic("automl_vision", "new classification")
    with pytest.raises(UsageError, match="no training_data yet"):
        ip.run_line_magic("automl_vision", "data")


def test_check_runs_the_doctor_on_the_draft_data(ip, tmp_path):
    train = make_dataset("image_object_detection", tmp_path / "od", n=12, size=48)
    ip.run_line_magic("automl_vision", "new detection")
    ip.run_cell_magic(
        "automl_vision", "config", f"training_data: {{path: {train}, type: jsonl}}\n"
    )
    report = ip.run_line_magic("automl_vision", "check")
    assert report.task.value == "image_object_detection"
    assert sum(report.class_counts.values()) > 0
    assert "<" in report._repr_html_()
