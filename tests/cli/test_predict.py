"""``automl-vision predict MODEL_DIR IMAGE... [--set KEY=VALUE]`` prints Azure-schema JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from automl_nb.cli import main
from automl_nb.inference import validate_prediction
from automl_nb.testing.models import tiny_model_folder

LABELS = ["can", "carton"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model_folder(tmp_path_factory.mktemp("cli_predict") / "model", labels=LABELS)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_images")
    rng = np.random.default_rng(0)
    paths = []
    for i in range(2):
        path = root / f"{i}.png"
        Image.fromarray(rng.integers(0, 255, (50, 60, 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    return paths


def test_predict_prints_the_azure_json_list(model_dir, images, capsys):
    assert main(["predict", str(model_dir), *images, "--device", "cpu"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out, list) and len(out) == 2
    validate_prediction(out, "image_classification")
    assert out[0]["labels"] == LABELS


def test_predict_set_overrides_and_paths(model_dir, images, capsys):
    args = ["predict", str(model_dir), images[0], "--set", "validation_crop_size=24"]
    assert main([*args, "--with-paths", "--device", "cpu"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["image"] == images[0]
    assert set(entry) == {"image", "probs", "labels"}


def test_predict_bad_setting_is_a_located_error(model_dir, images, capsys):
    assert main(["predict", str(model_dir), images[0], "--set", "min_size=10"]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "min_size" in err
    assert main(["predict", str(model_dir), images[0], "--set", "nonsense"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


@pytest.mark.slow
def test_predict_as_a_command(model_dir, images):
    """The installed entry point: a real subprocess whose stdout is only the JSON."""
    result = subprocess.run(
        [sys.executable, "-m", "automl_nb.cli", "predict", str(model_dir), images[0]],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    validate_prediction(json.loads(result.stdout), "image_classification")
