"""The extension on a live job and on saved widget outputs, in a real JupyterLab in headless
chromium: cancel from the job panel stops a running trial; a saved dashboard shows its
static copy with no kernel instead of "model not found"."""

from __future__ import annotations

import time

import pytest

from tests.browser.test_lab import _open_lab
from tests.browser.test_lab import _open_sidebar
from tests.server.tinyjob import tiny_job_yaml

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _wait(predicate, timeout: float, what: str):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_cancel_from_the_job_panel_stops_a_running_trial(
    page, lab_server, lab_root, screenshots, tmp_path
):
    from automl_nb.runner import submit

    root, _ = lab_root
    yaml = tiny_job_yaml(tmp_path, epochs=300, failing=False, experiment="live")
    job = submit(str(yaml), workspace=root / "automl_runs")
    try:
        progress = job.dir / "trials" / "0" / "progress.json"
        _wait(progress.exists, 120, "the trial's first batch")
        _open_lab(page, lab_server)
        _open_sidebar(page)
        item = page.locator(f"#automl-nb-jobs .jp-AutoML-jobitem[data-job='{job.id}']")
        # The sidebar shows the running trial's progress too.
        item.locator(".jp-AutoML-progress", has_text="trial 0: epoch").wait_for(timeout=20_000)
        item.click()
        panel = page.locator(f".jp-AutoML-jobpanel .jp-AutoML-card[data-job='{job.id}']")
        panel.wait_for(timeout=30_000)
        # The running trial shows its progress from the first batch.
        panel.locator(".jp-AutoML-progress").first.wait_for(timeout=15_000)
        assert "epoch" in panel.locator(".jp-AutoML-progress").first.inner_text()
        panel.locator("[data-action='cancel-trial'][data-trial='0']").click()
        page.locator(".jp-Dialog button.jp-mod-warn").click()
        assert job.wait(timeout=90) == "canceled"
        trial = job.trials()[0]
        assert trial.state == "canceled" and len(trial.metrics) < 300
        panel.locator(".jp-AutoML-badge.jp-AutoML-state-canceled").first.wait_for(timeout=20_000)
        path = screenshots / "cancel-from-panel.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
    finally:
        job.cancel()


def _saved_dashboard_notebook(job) -> dict:
    from automl_nb.notebook.widgets import Dashboard

    bundle = Dashboard(job, start=False)._repr_mimebundle_()
    output = {"output_type": "display_data", "metadata": {}, "data": bundle}
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "cells": [
            {
                "cell_type": "code",
                "id": "dashboard",
                "execution_count": 1,
                "metadata": {},
                "source": ["%automl_vision dashboard"],
                "outputs": [output],
            }
        ],
    }


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted", "untrusted"])
def test_saved_dashboard_shows_its_static_copy_without_a_kernel(
    page, lab_server, lab_root, screenshots, trusted
):
    """A notebook the user saved is trusted: Lab picks the widget view, finds no model and
    the extension shows the static card instead. An untrusted one shows the card at once."""
    import nbformat

    root, job = lab_root
    notebook = nbformat.from_dict(_saved_dashboard_notebook(job))
    if trusted:
        from nbformat.sign import NotebookNotary

        NotebookNotary().sign(notebook)
    name = f"saved-dashboard-{'trusted' if trusted else 'untrusted'}.ipynb"
    nbformat.write(notebook, str(root / name))
    _open_lab(page, lab_server, f"lab/tree/{name}")
    scope = ".jp-AutoML-fallback" if trusted else ".jp-AutoML-mime"
    card = page.locator(f"{scope} .jp-AutoML-card")
    card.wait_for(timeout=60_000)
    assert card.get_attribute("data-job") == job.id
    assert "none of its weights fit" in card.inner_text()
    errors = page.get_by_text("Error displaying widget")
    assert errors.count() == 0 or not errors.first.is_visible()
    path = screenshots / name.replace(".ipynb", ".png")
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")


def test_a_live_dashboard_shows_the_widget_not_its_static_copy(
    page, lab_server, lab_root, screenshots
):
    import nbformat

    root, job = lab_root
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(
        nbformat.v4.new_code_cell(f"%load_ext automl_nb\n%automl_vision dashboard {job.id}")
    )
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, str(root / "live-dashboard.ipynb"))
    _open_lab(page, lab_server, "lab/tree/live-dashboard.ipynb")
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
    page.wait_for_timeout(3000)
    page.locator(".jp-Cell .jp-InputArea-editor").first.click()
    page.keyboard.press("Shift+Enter")
    page.locator(".jp-Cell .jp-InputPrompt", has_text="[1]").first.wait_for(timeout=90_000)
    header = page.locator(".jp-OutputArea-output .widget-html", has_text=job.id).first
    header.wait_for(timeout=60_000)
    fallback = page.locator(".jp-AutoML-fallback")
    assert fallback.count() == 0 or not fallback.first.is_visible()
    path = screenshots / "live-dashboard.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
