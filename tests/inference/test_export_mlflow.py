"""MLflow export: ``mlflow.pyfunc.load_model`` predicts base64 images in the Azure schema.

Skipped where mlflow is not installed (it is an optional extra: automl-nb[export]).
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from automl_nb.inference import load_model
from automl_nb.inference import save_model_dir
from automl_nb.inference import validate_prediction
from automl_nb.inference.export import export_model

torch = pytest.importorskip("torch")
mlflow = pytest.importorskip("mlflow")
pd = pytest.importorskip("pandas")

LABELS = ["can", "carton", "milk_bottle"]
FAST_RPN = {"rpn_pre_nms_top_n_test": 100, "rpn_post_nms_top_n_test": 50}


def _b64(seed: int) -> str:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (70, 90, 3), dtype=np.uint8)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _model_dir(root, task):
    from automl_nb.models import create_model

    torch.manual_seed(0)
    if task.startswith("image_classification"):
        name, extra = "resnet18", {}
        hyper = {"validation_resize_size": 40, "validation_crop_size": 32}
        sizes = {}
    else:
        name, extra = "fasterrcnn_resnet18_fpn", FAST_RPN
        hyper = {"min_size": 64, "max_size": 96, "box_score_threshold": 0.0}
        sizes = {"min_size": 64, "max_size": 96}
    model = create_model(name, task=task, num_classes=3, pretrained=False, **sizes, **extra)
    return save_model_dir(
        root / task,
        model=model,
        model_name=name,
        task=task,
        labels=LABELS,
        hyperparameters=hyper,
        model_kwargs=extra,
    )


@pytest.mark.parametrize("task", ["image_classification", "image_object_detection"])
def test_pyfunc_predicts_the_azure_schema(tmp_path, task):
    folder = _model_dir(tmp_path, task)
    out = export_model(folder, "mlflow", tmp_path / "mlflow")
    assert (out / "MLmodel").is_file()
    assert (out / "code" / "automl_nb" / "inference" / "_predictor.py").is_file()
    assert not list((out / "code").rglob("__pycache__"))
    requirements = (out / "requirements.txt").read_text()
    assert "torch==" in requirements and "timm==" in requirements

    pyfunc = mlflow.pyfunc.load_model(str(out))
    images = [_b64(0), _b64(1), _b64(2)]
    frame = pyfunc.predict(pd.DataFrame({"image": images}))
    assert len(frame) == 3
    rows = frame.to_dict(orient="records")
    expected = load_model(folder, device="cpu").predict(images)
    for row, want in zip(rows, expected):
        validate_prediction(row, task)
        if task == "image_classification":
            assert row["labels"] == LABELS
            assert list(row["probs"]) == pytest.approx(want["probs"], abs=1e-5)
        else:
            assert [b["label"] for b in row["boxes"]] == [b["label"] for b in want["boxes"]]
    with pytest.raises(Exception, match="image"):
        pyfunc.predict(pd.DataFrame({"picture": images}))
