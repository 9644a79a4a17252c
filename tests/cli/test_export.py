"""``automl-vision export MODEL_DIR --format F -o OUT`` writes the export and lists it."""

from __future__ import annotations

import json

import pytest

from automl_nb.cli import main
from automl_nb.testing.models import tiny_model_folder

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model_folder(
        tmp_path_factory.mktemp("cli_export") / "model", labels=["can", "carton"]
    )


def test_export_torchscript(model_dir, tmp_path, capsys):
    out = tmp_path / "ts"
    assert main(["export", str(model_dir), "--format", "torchscript", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"exported torchscript model to {out} (4 files)" in printed
    assert "  model.pt" in printed
    scripted = torch.jit.load(str(out / "model.pt"))
    assert tuple(scripted(torch.rand(3, 3, 32, 32)).shape) == (3, 2)


def test_export_onnx_with_normalization_and_batch(model_dir, tmp_path, capsys):
    pytest.importorskip("onnx")
    out = tmp_path / "onnx"
    args = ["export", str(model_dir), "-f", "onnx", "-o", str(out)]
    assert main([*args, "--batch-size", "4", "--onnx-normalization"]) == 0
    info = json.loads((out / "export.json").read_text())
    assert info["input"]["shape"] == [4, 3, 32, 32]
    assert info["input"]["normalization_in_model"] is True
    assert "model.onnx" in capsys.readouterr().out
    # A second export into the same folder needs --overwrite.
    assert main(args) == 2
    assert "not empty" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0


def test_export_errors_exit_2(model_dir, tmp_path, capsys):
    args = ["export", str(model_dir), "-f", "torchscript", "-o", str(tmp_path / "x")]
    assert main([*args, "--batch-size", "2"]) == 2
    assert "unknown option(s) batch_size" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", str(model_dir), "-f", "tflite", "-o", str(tmp_path / "y")])


def test_export_mlflow_without_mlflow_names_the_extra(model_dir, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mlflow", None)
    args = ["export", str(model_dir), "-f", "mlflow", "-o", str(tmp_path / "m")]
    assert main(args) == 2
    assert "pip install automl-nb[export]" in capsys.readouterr().err
