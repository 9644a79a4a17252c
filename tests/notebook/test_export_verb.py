"""``%automl_vision export``: a model folder exported from the notebook, shown as a result."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from automl_nb.testing.models import tiny_model_folder

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model_folder(
        tmp_path_factory.mktemp("nb_export") / "model", labels=["can", "carton"]
    )


def test_export_a_model_folder(ip, model_dir, tmp_path):
    out = tmp_path / "ts"
    result = ip.run_line_magic(
        "automl_vision", f"export --model {model_dir} --format torchscript -o {out}"
    )
    assert result.out == out and result.format == "torchscript"
    assert [str(f) for f in result.files] == [
        "export.json",
        "labels.json",
        "model.pt",
        "settings.json",
    ]
    assert result.info["input"]["crop"] == 32
    assert "model.pt" in result.to_text() and "<table" in result._repr_html_()
    with pytest.raises(UsageError, match="not empty"):
        ip.run_line_magic(
            "automl_vision", f"export --model {model_dir} --format torchscript -o {out}"
        )


def test_export_without_a_job_is_a_usage_error(ip, tmp_path):
    with pytest.raises(UsageError):
        ip.run_line_magic("automl_vision", f"export --format onnx -o {tmp_path / 'x'}")
