"""A real ``jupyter lab`` over a workspace with a real tiny job, driven by Debian's chromium
through Playwright. Skips cleanly without chromium, playwright or the built extension."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.server.tinyjob import run_tiny_job

REPO = Path(__file__).resolve().parents[2]
BUILT_EXTENSION = REPO / "automl_nb" / "labextension"
TOKEN = "automl-nb-browser-test"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str:
    binary = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium")
    if not binary:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")
    if not (BUILT_EXTENSION / "static" / "style.js").is_file():
        pytest.skip("the labextension is not built (cd labextension && npm run build:prod)")
    return binary


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _notebook_with_job_output(job) -> dict:
    """A saved notebook whose one cell holds ``%automl_vision status``'s output."""
    from automl_nb.notebook._job_views import JobView
    from automl_nb.notebook._jobs import take_snapshot

    bundle = JobView(job, take_snapshot(job))._repr_mimebundle_()
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "cells": [
            {
                "cell_type": "code",
                "id": "status",
                "execution_count": 1,
                "metadata": {},
                "source": ["%automl_vision status"],
                "outputs": [
                    {
                        "output_type": "execute_result",
                        "execution_count": 1,
                        "metadata": {},
                        "data": bundle,
                    }
                ],
            }
        ],
    }


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory):
    """The server's root dir: ``automl_runs/`` with a real finished job, and a notebook with
    that job's saved output (``saved.ipynb``)."""
    root = tmp_path_factory.mktemp("lab-root")
    job = run_tiny_job(tmp_path_factory.mktemp("lab-inputs"), root / "automl_runs")
    notebook = _notebook_with_job_output(job)
    (root / "saved.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    return root, job


@pytest.fixture(scope="session")
def lab_server(lab_root, tmp_path_factory):
    """``jupyter lab`` with the server extension on and the built labextension; yields its URL."""
    _chromium()
    root, _ = lab_root
    extra = tmp_path_factory.mktemp("labextensions")
    (extra / "automl-nb").symlink_to(BUILT_EXTENSION, target_is_directory=True)
    config = tmp_path_factory.mktemp("jupyter-config")
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"automl_nb": True}}})
    )
    port = _free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    env.pop("AUTOML_NB_WORKSPACE", None)
    log = open(tmp_path_factory.mktemp("lab-log") / "lab.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser",
            "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={root}", f"--LabApp.extra_labextensions_path={extra}",
            f"--LabApp.workspaces_dir={config}", "--LabApp.news_url=None",
        ],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    end = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.time() > end:
                process.kill()
                pytest.fail(f"jupyter lab did not start; see {log.name}")
            time.sleep(0.3)
    yield url
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def browser(lab_server):
    """Headless Debian chromium under Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=_chromium(), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Folder of the tests' screenshots (printed, kept as artefacts)."""
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {folder}")
    return folder


@pytest.fixture
def page(browser, lab_server):
    """A fresh page, viewport wide enough for the job panel."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    context.close()
