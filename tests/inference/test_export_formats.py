"""The export-format registry and the errors of :func:`export_model`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from automl_nb.errors import ModelError
from automl_nb.inference.export import export_model
from automl_nb.inference.export import get_export_format
from automl_nb.inference.export import list_export_formats
from automl_nb.testing.models import tiny_model_folder

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model_folder(tmp_path_factory.mktemp("formats") / "model", labels=["a", "b"])


def test_registry_lists_the_formats():
    assert list_export_formats() == ["mlflow", "onnx", "torchscript"]
    onnx = get_export_format("ONNX")
    assert onnx.name == "onnx" and "batch_size" in onnx.options
    assert "image_object_detection" in onnx.tasks
    assert get_export_format("mlflow").requires == ("mlflow",)


def test_unknown_format_names_the_closest():
    with pytest.raises(ModelError, match="did you mean 'onnx'"):
        get_export_format("onx")


def test_importing_the_package_imports_no_torch():
    code = (
        "import sys; import automl_nb.inference.export as e; "
        "print(e.list_export_formats(), 'torch' in sys.modules, 'mlflow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['mlflow', 'onnx', 'torchscript'] False False"


def test_errors_before_any_work(model_dir, tmp_path):
    with pytest.raises(ModelError, match="unknown option.*batch_size.*accepted: normalization"):
        export_model(model_dir, "torchscript", tmp_path / "a", batch_size=2)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    with pytest.raises(ModelError, match="not empty"):
        export_model(model_dir, "torchscript", busy)
    with pytest.raises(ModelError, match="does not exist"):
        export_model(tmp_path / "missing", "onnx", tmp_path / "b")


def test_overwrite_writes_into_a_non_empty_folder(model_dir, tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    out = export_model(model_dir, "torchscript", busy, overwrite=True)
    assert {"keep.txt", "model.pt", "labels.json"} <= {p.name for p in out.iterdir()}


def test_missing_mlflow_names_the_extra(model_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setitem(sys.modules, "mlflow.pyfunc", None)
    with pytest.raises(ModelError, match=r"pip install automl-nb\[export\]"):
        export_model(model_dir, "mlflow", tmp_path / "m")


def test_missing_onnx_names_the_extra(model_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ModelError, match=r"needs the 'onnx' package.*automl-nb\[export\]"):
        export_model(model_dir, "onnx", tmp_path / "o")
