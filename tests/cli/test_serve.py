"""``automl-vision serve MODEL_DIR``: a real process serving on 127.0.0.1, queried over HTTP."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from automl_nb.cli import build_parser
from automl_nb.cli import main
from automl_nb.inference import validate_prediction
from automl_nb.testing.models import tiny_model_folder

LABELS = ["can", "carton"]


def _png_base64() -> str:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 255, (50, 60, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def body_of(*items: str) -> dict:
    return {"input_data": {"columns": ["image"], "data": list(items)}}


def call(url: str, body: object = None, key: str | None = None):
    """``(status, decoded JSON)`` of a POST (or a GET without ``body``)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    data = json.dumps(body).encode("utf-8") if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model_folder(tmp_path_factory.mktemp("cli_serve") / "model", labels=LABELS)


def _read_until(process: subprocess.Popen, prefix: str, timeout: float = 90.0) -> str:
    """The first stdout line starting with ``prefix`` (the process is still running)."""
    found: list[str] = []

    def read() -> None:
        for line in process.stdout:
            if line.startswith(prefix):
                found.append(line)
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    assert found, f"no {prefix!r} line within {timeout}s (exit code {process.poll()})"
    return found[0][len(prefix) :].strip()


def test_serve_as_a_command(model_dir):
    command = [sys.executable, "-m", "automl_nb.cli", "serve", str(model_dir)]
    command += ["--port", "0", "--key", "cli-key", "--device", "cpu", "--quiet"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        url = _read_until(process, "scoring URL:")
        assert url.startswith("http://127.0.0.1:") and url.endswith("/score")
        assert _read_until(process, "key:") == "cli-key"
        status, out = call(url, body_of(_png_base64()), "cli-key")
        assert status == 200, out
        validate_prediction(out, "image_classification")
        assert out[0]["labels"] == LABELS
        assert call(url, body_of(_png_base64()), "other")[0] == 401
        assert call(url.removesuffix("/score") + "/health") == (200, {"status": "healthy"})
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()


def test_a_random_key_is_printed_when_none_is_given(model_dir, capsys, monkeypatch):
    from automl_nb.inference import _server

    started = []

    def record(self):
        started.append(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(_server._HTTPServer, "serve_forever", record)
    assert main(["serve", str(model_dir), "--port", "0", "--device", "cpu", "--quiet"]) == 0
    out = capsys.readouterr().out
    key = out.split("key: ", 1)[1].split()[0]
    assert len(key) >= 32 and "Authorization: Bearer" in out
    assert len(started) == 1 and "127.0.0.1" in out


def test_no_auth_off_loopback_is_refused(model_dir, capsys):
    code = main(["serve", str(model_dir), "--host", "0.0.0.0", "--no-auth"])
    assert code == 2
    assert "without a key" in capsys.readouterr().err


def test_key_and_no_auth_are_exclusive(model_dir):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", str(model_dir), "--key", "k", "--no-auth"])
    args = build_parser().parse_args(["serve", str(model_dir)])
    assert (args.host, args.port, args.key, args.no_auth) == ("127.0.0.1", 5001, None, False)
