"""Verbs about a real job: submit, status, trials, jobs, best, predict, explain, dashboard,
cancel and resume, through a real InteractiveShell."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from automl_nb.inference import validate_prediction
from automl_nb.notebook import automl_vision
from automl_nb.notebook import last_job
from automl_nb.notebook import set_draft
from automl_nb.notebook import settings
from automl_nb.notebook._job_views import BestView
from automl_nb.notebook._job_views import JobView
from automl_nb.notebook._job_views import TrialsView
from automl_nb.notebook._state import STATE

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def submitted(tmp_path_factory, tiny_job):
    """``submit --wait`` of a draft built cell by cell (a real job); returns its JobView."""
    folder = tmp_path_factory.mktemp("job")
    yaml_path = tiny_job(folder, epochs=2)
    settings().workspace = str(folder / "runs")
    set_draft(None)
    automl_vision("new classification")
    automl_vision(f"config --file {yaml_path}")
    # A draft's relative data paths are relative to the notebook's folder: make it absolute.
    automl_vision("config", f"name: nbjob\ntraining_data: {{path: {folder / 'train.jsonl'}}}")
    view = automl_vision("submit --wait --timeout 400 --set limits.max_trials=1")
    return view, folder


@pytest.fixture
def shell(ip, submitted):
    """The shell, with the workspace of the submitted job and it as the last job."""
    view, _ = submitted
    ip.run_line_magic("config", f"AutoMLVision.workspace = '{view.job.dir.parent.parent}'")
    STATE.last_job_dir = view.job.dir
    return ip


def test_submit_wait_returns_the_finished_job(submitted):
    view, _ = submitted
    assert isinstance(view, JobView)
    assert view.status == "completed", view.to_text()
    assert view.job.dir.name.startswith("nbjob-")
    assert (view.job.dir / "job.yaml").is_file()
    assert "finished" in view.note
    assert [t.state for t in view.trials] == ["completed"]


def test_status_and_trials_default_to_the_last_job(shell, submitted):
    view, _ = submitted
    status = shell.run_line_magic("automl_vision", "status")
    assert status.job.id == view.job.id and status.status == "completed"
    assert "completed" in status._repr_html_() and str(view.job.dir) in status.to_text()
    trials = shell.run_line_magic("automl_vision", f"trials {view.job.id[:12]}")
    assert isinstance(trials, TrialsView)
    (row,) = trials.snapshot.trials
    assert row.epoch == 2 and row.best_score is not None
    assert "accuracy" in trials.to_text()
    # A saved notebook renders the trials as the extension's static job card.
    card = trials._repr_mimebundle_()["application/vnd.automl-nb.job+json"]
    assert card["id"] == view.job.id and card["trials"][0]["state"] == "completed"
    # One trial: no "hyperparameters: {}" line, nothing to show for an empty dict.
    assert "{}" not in trials.to_text()


def test_jobs_lists_the_workspace(shell, submitted):
    view, _ = submitted
    table = shell.run_line_magic("automl_vision", "jobs")
    assert [row[0] for row in table.rows] == [view.job.id]
    assert table.rows[0][1] == "completed"


def test_best_shows_the_model_and_its_metrics(shell, submitted):
    best = shell.run_line_magic("automl_vision", "best")
    assert isinstance(best, BestView)
    assert best.trial.number == 0 and best.score is not None
    assert (best.model_dir / "model.pt").is_file()
    assert "accuracy" in best.metrics
    html = best._repr_html_()
    assert "best trial 0" in html
    if best.plots:
        assert "data:image/png;base64" in html


def test_predict_globs_draws_and_keeps_the_azure_schema(shell, submitted):
    _, folder = submitted
    result = shell.run_line_magic("automl_vision", f"predict {folder}/images/000*.png --max 2")
    assert len(result.predictions) == len(result.images) == 10
    for prediction in result.predictions:
        validate_prediction(prediction, "image_classification")
    assert len(result.pngs) == 2 and result.pngs[0].startswith(b"\x89PNG")
    assert result._repr_html_().count("<img") == 2
    with pytest.raises(UsageError, match="no image matches"):
        shell.run_line_magic("automl_vision", f"predict {folder}/nothing-*.png")


def test_explain_compares_algorithms_and_opens_the_viewer(shell, submitted, comm_messages):
    _, folder = submitted
    image = folder / "images" / "0000.png"
    result = shell.run_line_magic(
        "automl_vision", f"explain {image} --algorithm guided_backprop,guided_gradcam"
    )
    assert result.algorithms == ["guided_backprop", "guided_gradcam"]
    for algorithm in result.algorithms:
        assert result._pngs(result.results[(str(image), algorithm)])[0].startswith(b"\x89PNG")
    assert result._repr_html_().count("<img") == 2
    # A warning is printed exactly for the algorithms whose map was all zero.
    assert result.to_text().count("warning:") == len(result.flat)
    viewer = shell.run_line_magic(
        "automl_vision", f"explain {image} --viewer --algorithm guided_backprop"
    )
    # The viewer opens with the first image explained, no click needed.
    assert list(viewer.results) == ["guided_backprop"] and len(viewer.panels.children) == 1
    viewer.label.value = viewer.label.options[1]
    viewer.run_button.click()
    assert list(viewer.results) == ["guided_backprop"], viewer.status.value
    assert len(viewer.panels.children) == 1
    with pytest.raises(UsageError, match="unknown explanation parameter"):
        shell.run_line_magic("automl_vision", f"explain {image} --param steps=3")


def test_dashboard_reattaches_to_a_job_by_id(shell, submitted, comm_messages):
    view, _ = submitted
    STATE.last_job_dir = None  # as after a kernel restart
    dashboard = shell.run_line_magic("automl_vision", f"dashboard {view.job.id}")
    assert dashboard.snapshot.status == "completed"
    assert not dashboard.watcher.running  # a finished job needs no watcher
    assert last_job().id == view.job.id
    assert "trial" in dashboard.table.value


def test_cancel_and_resume(shell, submitted):
    view, _ = submitted
    with pytest.raises(UsageError, match="has no trial 7"):
        shell.run_line_magic("automl_vision", "cancel /7")
    with pytest.raises(UsageError, match="expected JOB"):
        shell.run_line_magic("automl_vision", "cancel /x")
    message = shell.run_line_magic("automl_vision", f"cancel {view.job.id}/0")
    assert "asked trial 0" in message.text
    resumed = shell.run_line_magic("automl_vision", "resume")
    assert "resumed" in resumed.note
    assert resumed.job.wait(120) == "completed"
    assert [t.state for t in resumed.job.trials()] == ["completed"]


def test_an_all_zero_attribution_map_carries_a_warning():
    import numpy as np

    from automl_nb.explain._explain import Explanation
    from automl_nb.notebook._model_views import FLAT_WARNING
    from automl_nb.notebook._model_views import ExplainView
    from automl_nb.notebook.widgets._explain_viewer import _flat_warning

    def explanation(attributions):
        return Explanation(
            label="red",
            label_index=0,
            score=0.9,
            algorithm="guided_gradcam",
            attributions=attributions,
            image=np.zeros((4, 4, 3), dtype=np.float32),
        )

    assert "all zero" in _flat_warning(explanation(np.zeros((3, 4, 4), dtype=np.float32)))
    assert _flat_warning(explanation(np.ones((3, 4, 4), dtype=np.float32))) == ""
    result = {"probs": [0.9, 0.1], "labels": ["red", "green"], "visualizations": []}
    view = ExplainView(
        ["a.png"],
        ["guided_gradcam"],
        {("a.png", "guided_gradcam"): result},
        flat={("a.png", "guided_gradcam")},
    )
    assert FLAT_WARNING in view.to_text() and "all zero" in view._repr_html_()
    plain = ExplainView(["a.png"], ["guided_gradcam"], {("a.png", "guided_gradcam"): result})
    assert "all zero" not in plain.to_text() + plain._repr_html_()
