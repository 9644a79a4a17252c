"""The job builder, sweep editor and data preview, driven like a user would (set values,
click buttons), with a recording comm standing in for the frontend."""

from __future__ import annotations

import pytest

from automl_nb.config import JobDraft
from automl_nb.config import load_job
from automl_nb.data import read_dataset
from automl_nb.notebook import current_draft
from automl_nb.notebook.widgets import DataPreview
from automl_nb.notebook.widgets import JobBuilder
from automl_nb.notebook.widgets import SweepEditor
from automl_nb.notebook.widgets._sweep_editor import ParameterRow
from automl_nb.testing.datasets import make_dataset


@pytest.fixture
def draft() -> JobDraft:
    return JobDraft("image_classification")


def test_builder_edits_update_the_draft(comm_messages, draft):
    builder = JobBuilder(draft)
    builder.fields["training_data.path"].value = "data/train.jsonl"
    builder.fields["target_column_name"].value = "label"
    builder.fields["limits.max_trials"].value = "3"
    builder.fields["training_parameters.model_name"].value = "resnet18"
    builder.fields["training_parameters.learning_rate"].value = "0.02"
    builder.fields["use_pretrained"].value = False
    spec = draft.spec
    assert spec.training_data.path == "data/train.jsonl"
    assert spec.training_data.type == "jsonl"
    assert spec.limits.max_trials == 3
    assert spec.training_parameters.model_name == "resnet18"
    assert spec.training_parameters.learning_rate == 0.02
    assert spec.training_parameters.advanced_settings == {"use_pretrained": False}
    assert builder.error.value == ""
    assert "learning_rate: 0.02" in builder.preview.value
    # Emptying an optional training parameter removes it.
    builder.fields["training_parameters.learning_rate"].value = ""
    assert draft.spec.training_parameters.learning_rate is None
    assert comm_messages, "edits reach the frontend"


def test_builder_invalid_input_shows_the_error_and_keeps_the_draft(comm_messages, draft):
    builder = JobBuilder(draft)
    builder.fields["limits.max_trials"].value = "4"
    before = draft.to_yaml()
    builder.fields["limits.max_trials"].value = "0"
    assert "limits.max_trials" in builder.error.value
    assert draft.to_yaml() == before
    builder.fields["training_parameters.learning_rate"].value = "fast"
    assert "must be a number" in builder.error.value
    assert draft.to_yaml() == before
    builder.fields["limits.max_trials"].value = "5"
    assert builder.error.value == ""
    assert draft.to_dict()["limits"]["max_trials"] == 5


def test_builder_task_change_offers_that_task_s_models(comm_messages, draft):
    builder = JobBuilder(draft)
    builder.fields["task"].value = "image_object_detection"
    assert draft.to_dict()["task"] == "image_object_detection"
    assert "fasterrcnn_resnet50_fpn" in builder.fields["training_parameters.model_name"].options


def test_builder_verb_edits_the_current_draft(ip, comm_messages):
    ip.run_line_magic("automl_vision", "new detection")
    builder = ip.run_line_magic("automl_vision", "builder")
    builder.fields["training_parameters.min_size"].value = "320"
    assert current_draft().to_dict()["training_parameters"]["min_size"] == 320


def _filled_editor(draft: JobDraft) -> SweepEditor:
    editor = SweepEditor(draft)
    editor.sampling.value = "bayesian"
    editor.policy.value = "bandit"
    editor.policy_fields["slack_factor"].value = "0.2"
    editor.policy_fields["evaluation_interval"].value = "2"
    editor.add_subspace_button.click()
    first = editor.subspaces.children[0]
    first.models.value = "resnet18, mobilenetv2"
    first.add_row.click()
    row = first.rows.children[0]
    row.name.value, row.kind.value, row.args.value = "learning_rate", "uniform", "0.001, 0.01"
    first.add(ParameterRow("optimizer", "choice", "sgd, adamw"))
    first.add(ParameterRow("number_of_epochs", "fixed", "3"))
    second = editor.add_subspace()
    second.models.value = "vits16r224"
    second.add(ParameterRow("learning_rate", "loguniform", "-9, -4"))
    return editor


def test_sweep_editor_emits_the_yaml_the_spec_reads(comm_messages, draft):
    editor = _filled_editor(draft)
    assert editor.apply()
    assert "applied" in editor.error.value
    data = draft.to_dict()
    emitted = editor.to_dict()
    # What the editor emitted is what the draft now holds (the draft adds policy defaults).
    assert data["search_space"] == emitted["search_space"]
    assert data["sweep"]["early_termination"] == {
        **emitted["sweep"]["early_termination"],
        "delay_evaluation": 0,
    }
    spec = load_job(
        "type: automl\ntask: image_classification\ntarget_column_name: label\n"
        "training_data: {path: t.jsonl, type: jsonl}\n" + editor.yaml
    )
    assert spec.sweep.sampling_algorithm == "bayesian"
    assert spec.sweep.early_termination.slack_factor == 0.2
    assert spec.sweep.early_termination.evaluation_interval == 2
    assert len(spec.search_space) == 2
    assert spec.search_space[0]["model_name"].values == ("resnet18", "mobilenetv2")
    assert spec.search_space[0]["learning_rate"].max_value == 0.01
    assert spec.search_space[0]["number_of_epochs"] == 3
    assert spec.search_space[1]["learning_rate"].type == "loguniform"


def test_sweep_editor_reads_back_the_draft_and_removes_rows(comm_messages, draft):
    _filled_editor(draft).apply()
    editor = SweepEditor(draft)
    data = draft.to_dict()
    assert editor.to_dict() == {"sweep": data["sweep"], "search_space": data["search_space"]}
    first = editor.subspaces.children[0]
    first.rows.children[0].remove.click()
    first.remove.click()
    assert len(editor.subspaces.children) == 1
    assert editor.apply()
    assert len(draft.to_dict()["search_space"]) == 1


def test_sweep_editor_invalid_policy_shows_the_error(comm_messages, draft):
    editor = SweepEditor(draft)
    editor.policy.value = "truncation_selection"
    editor.policy_fields["truncation_percentage"].value = "150"
    before = draft.to_yaml()
    editor.apply_button.click()
    assert "truncation_percentage" in editor.error.value
    assert draft.to_yaml() == before
    assert editor.policy_fields["slack_factor"].layout.display == "none"


def test_data_preview_pages_and_filters(comm_messages, tmp_path):
    path = make_dataset("image_instance_segmentation", tmp_path, n=10, size=48)
    data = read_dataset(path, "image_instance_segmentation")
    preview = DataPreview(data, per_page=4)
    assert preview.page.max == 3
    first = bytes(preview.grid.value)
    assert first.startswith(b"\x89PNG")
    preview.next_button.click()
    assert preview.page.value == 2
    assert bytes(preview.grid.value) != first
    preview.class_filter.value = data.labels[0]
    assert preview.page.value == 1
    assert all(data.labels[0] in r.class_names for r in preview.records)
    assert bytes(preview.histogram.value).startswith(b"\x89PNG")
    assert "objects" in repr(preview)


def test_data_verb_previews_the_draft_with_the_doctor(ip, comm_messages, tmp_path):
    path = make_dataset("image_classification_multilabel", tmp_path, n=12, size=32)
    ip.run_line_magic("automl_vision", "new multilabel")
    ip.run_cell_magic("automl_vision", "config", f"training_data: {{path: {path}, type: jsonl}}")
    preview = ip.run_line_magic("automl_vision", "data --per-page 6")
    assert len(preview.shown()) == 6
    assert preview.report is not None and preview.report.images == 12
    assert "Dataset check" in preview.findings.value or preview.findings.value


def test_data_preview_summary_counts_say_what_they_count(comm_messages, tmp_path):
    multiclass = read_dataset(
        make_dataset("image_classification", tmp_path / "a", n=9), "image_classification"
    )
    summary = DataPreview(multiclass).summary.value
    # Not "9 images, 9 images": the number of images once, then the classes.
    assert summary.count("images") == 1 and "9 images" in summary and "classes" in summary
    detection = read_dataset(
        make_dataset("image_object_detection", tmp_path / "b", n=6, size=48),
        "image_object_detection",
    )
    summary = DataPreview(detection).summary.value
    objects = sum(len(r.class_names) for r in detection.records)
    assert f"6 images, {objects} objects" in summary


def test_data_preview_output_carries_a_static_copy(comm_messages, tmp_path):
    data = read_dataset(
        make_dataset("image_classification", tmp_path, n=6), "image_classification"
    )
    bundle = DataPreview(data, per_page=4)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html = bundle["text/html"]
    assert html.count("data:image/png;base64,") == 2  # the page of images and the class counts
    assert "6 images" in html


def test_the_doctor_sizes_objects_at_the_drafts_input_size(ip, comm_messages, tmp_path):
    path = make_dataset("image_object_detection", tmp_path, n=6, size=48)
    ip.run_line_magic("automl_vision", "new detection")
    ip.run_cell_magic(
        "automl_vision",
        "config",
        f"training_data: {{path: {path}, type: jsonl}}\n"
        "training_parameters: {min_size: 64, max_size: 96}\n",
    )
    preview = ip.run_line_magic("automl_vision", "data")
    assert preview.report.input_size == 64
    assert "after resize to 64 px" in preview.findings.value
    assert "600 px" not in preview.findings.value
