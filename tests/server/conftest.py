"""Fixtures for the REST API tests: a real Jupyter server with the extension enabled, over a
workspace holding one real finished tiny job."""

from __future__ import annotations

from pathlib import Path

import pytest

# pytest-jupyter's fixtures and hooks, for this folder only (its autouse event loop must not
# reach the browser tests, whose Playwright runs its own loop).
from pytest_jupyter.jupyter_core import *  # noqa: F403
from pytest_jupyter.jupyter_server import *  # noqa: F403

from tests.server.tinyjob import run_tiny_job


@pytest.fixture(scope="session")
def finished_job(tmp_path_factory):
    """A real two-trial job run to its end (trial 0 completed, trial 1 failed)."""
    root = tmp_path_factory.mktemp("server-job")
    return run_tiny_job(root / "inputs", root / "workspace")


@pytest.fixture
def workspace(finished_job) -> Path:
    """The workspace folder holding ``finished_job``."""
    return finished_job.dir.parent.parent


@pytest.fixture
def jp_server_config(workspace):
    """The server under test: the extension on, no unauthenticated access, our workspace."""
    return {
        "ServerApp": {
            "jpserver_extensions": {"automl_nb": True},
            "allow_unauthenticated_access": False,
        },
        "AutoMLNB": {"workspace": str(workspace)},
    }
