"""Fixtures for runner tests: a tiny job on the real fridge thumbnails."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from automl_nb.testing.processes import kill_job_processes

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# 32 px crops, resnet18 from scratch, batch 8: a few seconds per epoch on 2 CPU cores.
TINY_TRAINING = """\
training_parameters:
  model_name: resnet18
  number_of_epochs: {epochs}
  training_batch_size: 16
  validation_batch_size: 32
  training_crop_size: 32
  validation_crop_size: 32
  validation_resize_size: 36
  learning_rate: 0.02
  early_stopping: false
  random_seed: 1
  advanced_settings: '{{"use_pretrained": false}}'
"""


@pytest.fixture(scope="session")
def fridge_jsonl(tmp_path_factory) -> Path:
    """The 134 real fridge thumbnails as a multi-class JSONL (skips without ../shared/data)."""
    source = SHARED_DATA / "fridgeObjects" / "thumbnails_150"
    if not source.is_dir():
        pytest.skip("../shared/data/fridgeObjects is not present")
    from automl_nb.data.converters import convert

    out = tmp_path_factory.mktemp("fridge") / "train.jsonl"
    convert("folder", source, out)
    return out


@pytest.fixture(scope="session")
def colour_jsonl(tmp_path_factory) -> Path:
    """40 synthetic two-class images that a model learns in an epoch or two."""
    from automl_nb.testing.datasets import make_classification_jsonl

    return make_classification_jsonl(
        tmp_path_factory.mktemp("colours"), n=40, size=32, classes=("red", "green")
    )


@pytest.fixture
def write_job(tmp_path, request):
    """Write a job YAML: ``write_job(extra_yaml, epochs=2, data="colours"|"fridge") -> path``.

    ``fridge`` is the real thumbnails; ``colours`` a tiny synthetic set on which a good
    learning rate reliably beats a useless one (for early-termination tests).
    """

    def _write(extra: str, *, epochs: int = 2, data: str = "colours") -> Path:
        fixture = "fridge_jsonl" if data == "fridge" else "colour_jsonl"
        jsonl = request.getfixturevalue(fixture)
        text = (
            "type: automl\n"
            "task: image_classification\n"
            "target_column_name: label\n"
            f"training_data: {{path: {jsonl}, type: uri_file}}\n"
            "validation_data_size: 0.3\n"
            + TINY_TRAINING.format(epochs=epochs)
            + textwrap.dedent(extra)
        )
        path = tmp_path / "job.yml"
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def workspace(tmp_path):
    """A workspace folder; any controller or kernel left running is killed afterwards."""
    ws = tmp_path / "ws"
    yield ws
    kill_job_processes(ws)
