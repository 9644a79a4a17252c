"""``%automl_vision deploy``: an endpoint in the background of the kernel, then ``--stop``."""

from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.request

import numpy as np
import pytest
from IPython.core.error import UsageError
from PIL import Image

from automl_nb.inference import validate_prediction
from automl_nb.notebook._results import Message
from automl_nb.notebook.verbs._deploy import DeployView
from automl_nb.notebook.verbs._deploy import running_server
from automl_nb.testing.models import tiny_model_folder

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model_folder(tmp_path_factory.mktemp("deploy") / "model", labels=["can", "carton"])


def _score(url: str, key: str | None) -> tuple[int, object]:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, "PNG")
    body = {
        "input_data": {
            "columns": ["image"],
            "data": [base64.b64encode(buffer.getvalue()).decode()],
        }
    }
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(url, json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_deploy_serves_in_the_background_until_stopped(ip, model_dir):
    view = ip.run_line_magic("automl_vision", f"deploy --model {model_dir} --port 0")
    try:
        assert isinstance(view, DeployView) and running_server() is view.server
        assert view.url.startswith("http://127.0.0.1:") and len(view.key) >= 32
        text = view.to_text()
        assert view.url in text and view.key in text and "curl" in text and "requests" in text
        assert view.url in view._repr_html_()
        status, out = _score(view.url, view.key)
        assert status == 200
        validate_prediction(out, "image_classification")
        assert _score(view.url, None)[0] == 401

        again = ip.run_line_magic(
            "automl_vision", f"deploy --model {model_dir} --port 0 --key abc"
        )
        assert "replaced the endpoint" in again.to_text()
        assert running_server() is again.server and not view.server.running
        assert _score(again.url, "abc")[0] == 200
    finally:
        stopped = ip.run_line_magic("automl_vision", "deploy --stop")
    assert isinstance(stopped, Message) and "stopped the endpoint" in stopped.text
    assert running_server() is None
    with pytest.raises(urllib.error.URLError):
        _score(again.url, "abc")
    assert "no endpoint" in ip.run_line_magic("automl_vision", "deploy --stop").text


def test_deploy_errors_are_usage_errors(ip, model_dir):
    with pytest.raises(UsageError, match="without a key"):
        ip.run_line_magic("automl_vision", f"deploy --model {model_dir} --host 0.0.0.0 --no-auth")
    with pytest.raises(UsageError):
        ip.run_line_magic("automl_vision", "deploy")  # no job submitted yet
    assert running_server() is None
