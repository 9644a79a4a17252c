"""What the dashboard and the job views say about real jobs: the full failure reason with its
fix, a static copy for a notebook reopened without its kernel, readable plots and labels."""

from __future__ import annotations

import json
import re

import pytest

from automl_nb.notebook._job_views import BestView
from automl_nb.notebook._job_views import JobView
from automl_nb.notebook._jobs import take_snapshot
from automl_nb.notebook.widgets import Dashboard
from automl_nb.runner import run_job
from automl_nb.server._payload import JOB_MIME

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def offline_job(tmp_path_factory, tiny_job):
    """A real one-trial job that asks for pretrained weights with no internet: it fails in
    its kernel with the download error (HF_HUB_OFFLINE=1 reaches the kernel)."""
    folder = tmp_path_factory.mktemp("offline")
    path = tiny_job(folder, epochs=1)
    text = path.read_text().replace('"use_pretrained": false', '"use_pretrained": true')
    path.write_text(text)
    return run_job(str(path), workspace=folder / "runs")


@pytest.fixture(scope="module")
def finished_job(tmp_path_factory, tiny_job):
    """A real one-trial job of one epoch that completes."""
    folder = tmp_path_factory.mktemp("done")
    return run_job(str(tiny_job(folder, epochs=1)), workspace=folder / "runs")


def test_the_failure_reason_is_shown_in_full_with_its_fix(offline_job, comm_messages):
    trial = offline_job.trials()[0]
    assert trial.state == "failed"
    error = trial.error
    assert "could not be downloaded" in error and '"use_pretrained": false' in error
    dashboard = Dashboard(offline_job, start=False)
    table = dashboard.table.value
    # The whole message, advice included, in the dashboard; in the text view too.
    assert "use_pretrained" in table and "internet access" in table
    text = JobView(offline_job, take_snapshot(offline_job)).to_text()
    assert error.strip() in text
    # No plot before an epoch: the image stays hidden (no broken-image icon).
    assert dashboard.plot.layout.display == "none" and not dashboard.plot.value
    assert "0/1 trials completed, 1 failed" in dashboard.header.value


def test_dashboard_output_carries_a_static_copy_for_a_saved_notebook(finished_job, comm_messages):
    dashboard = Dashboard(finished_job, start=False)
    bundle = dashboard._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html = bundle["text/html"]
    assert finished_job.id in html and "data:image/png;base64," in html
    card = bundle[JOB_MIME]
    assert card["id"] == finished_job.id and card["trials"][0]["state"] == "completed"
    json.dumps(card)  # what the notebook file stores
    assert dashboard.plot.layout.display is None  # one epoch: a plot to show


def test_trial_picker_shows_its_selection_and_cancel_job_asks_first(tmp_path, tiny_job):
    from automl_nb.runner import submit
    from tests.runner.test_sweep_jobs import wait_for

    job = submit(str(tiny_job(tmp_path, epochs=40)), workspace=tmp_path / "runs")
    dashboard = Dashboard(job, refresh_seconds=0.5, start=False)
    wait_for(lambda: dashboard.refresh().trials and dashboard.trial_picker.options, timeout=120)
    assert dashboard.trial_picker.value == 0
    assert dashboard.trial_picker.options == (("trial 0", 0),)
    # A sign of life from the first batch: epoch, batch, images/s, in the table and `status`.
    wait_for(lambda: "images/s" in (dashboard.refresh() and dashboard.table.value), timeout=120)
    assert re.search(r"epoch \d+/40, batch \d+/\d+", dashboard.table.value)
    status_text = JobView(job, take_snapshot(job)).to_text()
    assert "images/s" in status_text or "evaluating" in status_text
    dashboard.cancel_job_button.click()
    assert dashboard.confirm_box.layout.display is None
    assert not job.paths.cancel_flag.exists()  # nothing canceled yet
    dashboard.keep_button.click()
    assert dashboard.confirm_box.layout.display == "none"
    dashboard.cancel_job_button.click()
    dashboard.confirm_button.click()
    assert job.wait(timeout=120) == "canceled"
    final = dashboard.refresh()
    assert "0/1 trials completed, 1 canceled" in dashboard.header.value
    assert final.trials[0].state == "canceled"


def test_best_shows_settings_not_an_empty_dict(finished_job):
    best = BestView(finished_job, finished_job.best_trial(), "accuracy")
    text = best.to_text()
    assert "hyperparameters: {}" not in text
    assert "settings: model_name=resnet18" in text and "number_of_epochs=1" in text
