"""Abuse of a real scoring endpoint over real sockets: lying Content-Length, slow uploads,
non-HTTP bytes, duplicate keys and clients that hang up. Nothing may hang, take a request
slot it is not using, or leave a traceback in the log."""

from __future__ import annotations

import base64
import json
import logging
import socket
import time

import pytest
from corpus_files import png_bytes

from automl_nb.inference import ScoringLimits
from automl_nb.inference import ScoringServer

KEY = "corpus-key"
TIMEOUT_S = 3.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import torch

    from automl_nb.inference import save_model_dir
    from automl_nb.models import create_model

    torch.manual_seed(0)
    model = create_model("resnet18", task="image_classification", num_classes=2, pretrained=False)
    folder = save_model_dir(
        tmp_path_factory.mktemp("http-abuse") / "model",
        model=model,
        model_name="resnet18",
        task="image_classification",
        labels=["cat", "dog"],
        hyperparameters={"validation_resize_size": 40, "validation_crop_size": 32},
    )
    limits = ScoringLimits(request_timeout_s=TIMEOUT_S, max_concurrent_requests=2)
    with ScoringServer(folder, key=KEY, device="cpu", limits=limits) as running:
        yield running


def _request(body: bytes, *, length: int | None = None, path: str = "/score") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body) if length is None else length}"
        "\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def _exchange(server, data: bytes, wait: float = 20.0) -> tuple[bytes, float]:
    """Send ``data`` and read until the server closes; ``(answer, seconds)``."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks), time.monotonic() - start


def _good_body() -> bytes:
    image = base64.b64encode(png_bytes(16)).decode()
    return json.dumps({"input_data": {"columns": ["image"], "data": [image]}}).encode()


def test_a_body_shorter_than_its_content_length_is_a_408_within_the_time_limit(server):
    answer, seconds = _exchange(server, _request(_good_body(), length=len(_good_body()) + 50))
    assert answer.startswith(b"HTTP/1.0 408") or answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"Content-Length" in answer
    assert seconds < TIMEOUT_S + 5


def test_slow_uploads_do_not_take_the_request_slots(server):
    stalled = []
    try:
        for _ in range(4):  # twice max_concurrent_requests, each stuck in its body
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(_request(b'{"input', length=5000))
            stalled.append(sock)
        time.sleep(0.3)
        answer, seconds = _exchange(server, _request(_good_body()))
        assert answer.split(b"\r\n", 1)[0].endswith(b"200 OK"), answer[:300]
    finally:
        for sock in stalled:
            sock.close()


def test_bytes_that_are_not_http_get_the_connection_closed_in_time(server):
    hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(200))
    _, seconds = _exchange(server, hello)
    assert seconds < TIMEOUT_S + 5


def test_a_duplicate_key_in_the_body_is_a_400_naming_it(server):
    body = b'{"input_data": {"data": ["x"]}, "input_data": {"data": ["y"]}}'
    answer, _ = _exchange(server, _request(body))
    assert b" 400 " in answer.split(b"\r\n", 1)[0]
    assert b"input_data" in answer and b"twice" in answer


def test_a_client_that_hangs_up_leaves_no_traceback_in_the_log(server, caplog, capfd):
    big = json.dumps({"input_data": {"data": ["A" * 200_000]}}).encode()
    with caplog.at_level(logging.INFO, logger="automl_nb.serve"):
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(_request(big)[:1000])
            sock.close()
        time.sleep(TIMEOUT_S + 1)
        answer, _ = _exchange(server, _request(_good_body()))
    assert b"200 OK" in answer.split(b"\r\n", 1)[0]
    assert "Traceback" not in caplog.text
    assert "Traceback" not in capfd.readouterr().err
