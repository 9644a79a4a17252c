"""Fixtures for the notebook layer: a real InteractiveShell with the extension loaded, a
recording comm for widgets, and tiny datasets."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config


class TestingShell(InteractiveShell):
    """An ``InteractiveShell`` whose ``run_cell`` raises what the cell raised."""

    def run_cell(self, *args: Any, **kwargs: Any) -> Any:
        result = super().run_cell(*args, **kwargs)
        result.raise_error()
        return result


@pytest.fixture(scope="session")
def _shell() -> TestingShell:
    config = Config()
    # Many shells with history on run out of file handles.
    config.HistoryAccessor.enabled = False
    shell = TestingShell.instance(config=config)
    shell.displayhook.flush = lambda: None
    return shell


@pytest.fixture
def ip(_shell: TestingShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TestingShell:
    """The shell with ``%load_ext automl_nb``, a fresh draft and a workspace in tmp_path."""
    from automl_nb.notebook import _state

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AUTOML_NB_WORKSPACE", str(tmp_path / "runs"))
    _shell.run_line_magic("load_ext", "automl_nb")
    _state.set_draft(None)
    _state.STATE.last_job_dir = None
    yield _shell
    _shell.run_line_magic("unload_ext", "automl_nb")


class RecordingComm:
    """Stands in for a widget's comm and records what would be sent to the frontend."""

    sent: list[tuple[str, dict]] = []
    lock = threading.Lock()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.comm_id = kwargs.get("comm_id") or f"comm-{id(self)}"
        self.kernel = "recording"

    def open(self, *args: Any, **kwargs: Any) -> None:
        pass

    def on_msg(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        with RecordingComm.lock:
            RecordingComm.sent.append((self.comm_id, data or {}))

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture
def comm_messages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    """Widgets created in the test use :class:`RecordingComm`; returns the message list."""
    import comm

    RecordingComm.sent = []
    monkeypatch.setattr(comm, "create_comm", lambda *args, **kwargs: RecordingComm(**kwargs))
    return RecordingComm.sent


@pytest.fixture(scope="session")
def tiny_job() -> Any:
    """:func:`tiny_job_yaml`: writes a tiny real job YAML (and its data) into a folder."""
    return tiny_job_yaml


def tiny_job_yaml(
    folder: Path,
    *,
    epochs: int = 2,
    max_trials: int = 1,
    extra: str = "",
) -> Path:
    """A real, tiny classification job: 12 images of 32 px, resnet18 from scratch."""
    from automl_nb.testing.datasets import make_classification_jsonl

    make_classification_jsonl(folder, n=12, size=32)
    text = (
        "type: automl\n"
        "task: image_classification\n"
        "name: tiny\n"
        "target_column_name: label\n"
        "training_data: {path: train.jsonl, type: jsonl}\n"
        f"limits: {{max_trials: {max_trials}, max_concurrent_trials: 1}}\n"
        "training_parameters:\n"
        "  model_name: resnet18\n"
        f"  number_of_epochs: {epochs}\n"
        "  training_batch_size: 4\n"
        "  training_crop_size: 32\n"
        "  validation_crop_size: 32\n"
        "  validation_resize_size: 32\n"
        "  early_stopping: false\n"
        "  advanced_settings: '{\"use_pretrained\": false}'\n"
    ) + extra
    path = folder / "job.yml"
    path.write_text(text, encoding="utf-8")
    return path
