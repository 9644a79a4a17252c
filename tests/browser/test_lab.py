"""The extension in a real JupyterLab in headless chromium: sidebar, job panel, MIME card."""

from __future__ import annotations

import pytest

from tests.browser.conftest import TOKEN

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _open_lab(page, url: str, path: str = "lab") -> None:
    # ``reset``: start from the default layout, not the one an earlier test left behind.
    page.goto(f"{url}/{path}?reset&token={TOKEN}")
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)


def _open_sidebar(page) -> None:
    tab = page.locator("li[data-id='automl-nb-jobs']")
    tab.wait_for(timeout=30_000)
    if not page.locator("#automl-nb-jobs").is_visible():
        tab.click()
    page.wait_for_selector("#automl-nb-jobs .jp-AutoML-jobitem", timeout=30_000)


def test_sidebar_lists_the_job_and_status_bar_counts(page, lab_server, lab_root, screenshots):
    _, job = lab_root
    _open_lab(page, lab_server)
    _open_sidebar(page)
    item = page.locator(f"#automl-nb-jobs .jp-AutoML-jobitem[data-job='{job.id}']")
    assert item.count() == 1
    text = item.inner_text()
    assert "completed" in text and "1 done" in text and "1 failed" in text
    best = job.best_trial().best_score
    assert f"{best:.4f}" in text
    page.wait_for_selector(".jp-AutoML-status[data-running='0']", timeout=15_000)
    path = screenshots / "sidebar.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")


def test_job_panel_draws_curves_and_full_reasons(page, lab_server, lab_root, screenshots):
    _, job = lab_root
    _open_lab(page, lab_server)
    _open_sidebar(page)
    page.click(f"#automl-nb-jobs .jp-AutoML-jobitem[data-job='{job.id}']")
    panel = page.locator(".jp-AutoML-jobpanel .jp-AutoML-card")
    panel.wait_for(timeout=30_000)
    curves = panel.locator("svg path.jp-AutoML-curve")
    # One curve for the trial with epochs, plus the best-so-far line.
    assert curves.count() == 2
    assert "trial 0" in (curves.first.get_attribute("data-label") or "")
    error = next(t.error for t in job.trials() if t.state == "failed")
    assert error in panel.locator(".jp-AutoML-error").first.inner_text()
    # A finished job offers no Cancel button.
    assert panel.locator("[data-action='cancel-job']").count() == 0
    path = screenshots / "job-panel.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def test_saved_notebook_renders_the_job_card(page, lab_server, lab_root, screenshots):
    _, job = lab_root
    _open_lab(page, lab_server, "lab/tree/saved.ipynb")
    card = page.locator(".jp-AutoML-mime .jp-AutoML-card")
    card.wait_for(timeout=60_000)
    assert card.get_attribute("data-job") == job.id
    text = card.inner_text()
    assert "completed" in text and "none of its weights fit" in text
    assert card.locator("svg path.jp-AutoML-curve").count() == 2
    path = screenshots / "saved-notebook.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
