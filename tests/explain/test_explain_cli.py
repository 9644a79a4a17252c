"""``automl-vision explain``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from automl_nb.cli import main


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    pytest.importorskip("automl_nb.models")
    from automl_nb.inference import save_model_dir
    from automl_nb.models import create_model

    task = "image_classification_multilabel"
    model = create_model("resnet18", task=task, num_classes=2, pretrained=False)
    folder = tmp_path_factory.mktemp("cli") / "model"
    return save_model_dir(
        folder,
        model=model,
        model_name="resnet18",
        task=task,
        labels=["can", "milk bottle"],
        settings={"valid_resize_size": 40, "valid_crop_size": 32},
    )


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    path = tmp_path_factory.mktemp("img") / "fridge photo.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((50, 60, 3)) * 255).astype(np.uint8)).save(path)
    return path


def test_cli_writes_npy_and_png_per_label(model_dir, image, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "explain",
            str(model_dir),
            str(image),
            "--algorithm",
            "integrated_gradients",
            "--n-steps",
            "4",
            "--approximation-method",
            "gausslegendre",
            "--confidence-score-threshold-multilabel",
            "0",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    (summary,) = json.loads(capsys.readouterr().out)
    assert summary["labels"] == ["can", "milk bottle"]
    assert [e["label"] for e in summary["explained"]] == ["can", "milk bottle"]
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "fridge_photo.can.integrated_gradients.npy",
        "fridge_photo.can.integrated_gradients.png",
        "fridge_photo.milk_bottle.integrated_gradients.npy",
        "fridge_photo.milk_bottle.integrated_gradients.png",
    ]
    assert np.load(out / names[0]).shape == (3, 32, 32)
    assert Image.open(out / names[1]).format == "PNG"


def test_cli_xrai_flags_and_errors(model_dir, image, tmp_path, capsys):
    code = main(
        [
            "explain",
            str(model_dir),
            str(image),
            "--no-xrai-fast",
            "--n-steps",
            "2",
            "--confidence-score-threshold-multilabel",
            "0",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    assert len(list(tmp_path.glob("*.xrai.npy"))) == 2
    capsys.readouterr()
    assert main(["explain", str(model_dir), str(image), "-a", "gradcam"]) == 2
    assert "unknown explanation algorithm" in capsys.readouterr().err


def test_cli_detection_model_is_refused(tmp_path, image, capsys):
    (tmp_path / "settings.json").write_text(json.dumps({"task": "image_object_detection"}))
    assert main(["explain", str(tmp_path), str(image)]) == 2
    assert "explanations are not supported yet for image_object_detection" in (
        capsys.readouterr().err
    )
