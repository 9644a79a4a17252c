"""A real HTTP scoring endpoint on 127.0.0.1, queried with urllib as any client would."""

from __future__ import annotations

import base64
import io
import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from automl_nb.errors import ConfigError
from automl_nb.inference import ScoringRequestError
from automl_nb.inference import ScoringServer
from automl_nb.inference import parse_scoring_request
from automl_nb.inference import save_model_dir
from automl_nb.inference import validate_prediction

torch = pytest.importorskip("torch")

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
LABELS = ["can", "carton", "milk_bottle"]
FAST_RPN = {"rpn_pre_nms_top_n_test": 100, "rpn_post_nms_top_n_test": 50}


def _png_base64(width: int = 60, height: int = 50, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _images_base64(folder: Path) -> list[str]:
    """Two real images from ../shared/data (downscaled), or generated ones where absent."""
    if not folder.is_dir():
        return [_png_base64(seed=0), _png_base64(seed=1)]
    out = []
    for path in sorted(folder.glob("*.jpg"))[:2]:
        with Image.open(path) as image:
            image = image.convert("RGB")
            image.thumbnail((96, 96))
            buffer = io.BytesIO()
            image.save(buffer, "JPEG")
        out.append(base64.b64encode(buffer.getvalue()).decode("ascii"))
    return out


def build_classifier(folder: Path) -> Path:
    """A 32 px resnet18 classifier folder (random weights)."""
    from automl_nb.models import create_model

    torch.manual_seed(0)
    model = create_model("resnet18", task="image_classification", num_classes=3, pretrained=False)
    return save_model_dir(
        folder,
        model=model,
        model_name="resnet18",
        task="image_classification",
        labels=LABELS,
        hyperparameters={"validation_resize_size": 40, "validation_crop_size": 32},
    )


def _build_detector(folder: Path) -> Path:
    from automl_nb.models import create_model

    torch.manual_seed(0)
    sizes = {"min_size": 64, "max_size": 96}
    model = create_model(
        "fasterrcnn_resnet18_fpn",
        task="image_object_detection",
        num_classes=3,
        pretrained=False,
        **sizes,
        **FAST_RPN,
    )
    return save_model_dir(
        folder,
        model=model,
        model_name="fasterrcnn_resnet18_fpn",
        task="image_object_detection",
        labels=LABELS,
        hyperparameters={**sizes, "box_score_threshold": 0.0, "box_detections_per_image": 5},
        model_kwargs=FAST_RPN,
    )


def post(url: str, body: object, key: str | None = None, raw: bytes | None = None):
    """``(status, decoded JSON)`` of a POST; HTTP errors are returned, not raised."""
    data = raw if raw is not None else json.dumps(body).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def get(url: str, key: str | None = None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def body_of(*items: object) -> dict:
    return {"input_data": {"columns": ["image"], "data": list(items)}}


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory):
    return build_classifier(tmp_path_factory.mktemp("serve") / "classifier")


@pytest.fixture(scope="module")
def server(classifier_dir):
    with ScoringServer(classifier_dir, device="cpu") as running:
        yield running


@pytest.fixture(scope="module")
def images():
    return _images_base64(SHARED_DATA / "fridgeObjects" / "thumbnails_150" / "can")


def test_scores_the_azure_request_body(server, images):
    status, out = post(server.scoring_url, body_of(*images), server.key)
    assert status == 200
    validate_prediction(out, "image_classification")
    assert len(out) == 2 and out[0]["labels"] == LABELS
    # The same images give the same answer as the model itself.
    expected = server.model.predict([base64.b64decode(i) for i in images])
    assert np.allclose(out[0]["probs"], expected[0]["probs"], atol=1e-5)


def test_every_body_form_gives_the_same_answer(server, images):
    _, reference = post(server.scoring_url, body_of(images[0]), server.key)
    forms = [
        {"input_data": {"data": [images[0]]}},
        {"input_data": {"columns": ["image"], "index": [0], "data": [[images[0]]]}},
        body_of(json.dumps({"image_base64": images[0], "model_explainability": False})),
        body_of("data:image/jpeg;base64," + images[0]),
    ]
    for form in forms:
        status, out = post(server.scoring_url, form, server.key)
        assert status == 200, out
        assert np.allclose(out[0]["probs"], reference[0]["probs"], atol=1e-6)


def test_explanation_request_returns_a_png_and_attributions(server, images):
    xai = {"xai_algorithm": "xrai", "n_steps": 4, "attributions": True}
    item = json.dumps(
        {"image_base64": images[0], "model_explainability": True, "xai_parameters": xai}
    )
    status, out = post(server.scoring_url, body_of(images[1], item), server.key)
    assert status == 200, out
    assert set(out[0]) == {"probs", "labels"}
    assert {"probs", "labels", "visualizations", "attributions"} <= set(out[1])
    png = base64.b64decode(out[1]["visualizations"])
    assert png.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(png)) as figure:
        figure.load()
        assert figure.width > 32
    assert np.asarray(out[1]["attributions"]).shape == (3, 32, 32)


def test_unknown_explanation_parameter_is_a_400_naming_the_item(server, images):
    item = json.dumps(
        {"image_base64": images[0], "model_explainability": True, "xai_parameters": {"nsteps": 3}}
    )
    status, out = post(server.scoring_url, body_of(images[0], item), server.key)
    assert status == 400 and out["index"] == 1
    assert "nsteps" in out["error"] and "n_steps" in out["error"]


def test_key_is_required_and_compared(server, images):
    assert len(server.key) >= 32
    for key in (None, "wrong", server.key + "x", ""):
        status, out = post(server.scoring_url, body_of(images[0]), key)
        assert status == 401, key
        assert "Bearer" in out["error"]
    request = urllib.request.Request(
        server.scoring_url,
        data=json.dumps(body_of(images[0])).encode(),
        headers={"Authorization": server.key},  # no scheme
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 401
    assert caught.value.headers["WWW-Authenticate"] == "Bearer"


def test_health_needs_no_key_and_shows_the_model_with_one(server):
    assert get(server.url + "/health") == (200, {"status": "healthy"})
    assert get(server.url + "/", "wrong") == (200, {"status": "healthy"})
    status, out = get(server.url + "/health", server.key)
    assert status == 200 and out["model"]["labels"] == LABELS
    assert out["model"]["task"] == "image_classification"


def test_bad_requests_are_400_with_the_item_index(server, images):
    cases = [
        (body_of(images[0], "not base64 at all!"), 1, "base64"),
        (body_of(images[0], images[1], base64.b64encode(b"x" * 100).decode()), 2, "decode"),
        (body_of(images[0], '{"image_base64": '), 1, "JSON"),
        (body_of(json.dumps({"model_explainability": True})), 0, "image_base64"),
        (body_of(42), 0, "int"),
    ]
    for body, index, word in cases:
        status, out = post(server.scoring_url, body, server.key)
        assert status == 400, body
        assert out["index"] == index
        assert word in out["error"] and f"data[{index}]" in out["error"]
    for body in ({"data": [images[0]]}, {"input_data": {"data": []}}, body_of()):
        status, out = post(server.scoring_url, body, server.key)
        assert status == 400 and "index" not in out
    status, out = post(server.scoring_url, None, server.key, raw=b"{not json")
    assert status == 400 and "JSON" in out["error"]
    status, out = post(
        server.scoring_url, {"input_data": {"columns": ["text"], "data": ["a"]}}, server.key
    )
    assert status == 400 and "columns" in out["error"]


def test_a_path_is_never_read_from_the_server_disk(server, classifier_dir):
    settings = str(classifier_dir / "settings.json")
    status, out = post(server.scoring_url, body_of(settings), server.key)
    assert status == 400 and out["index"] == 0


def test_routes_methods_and_size_limit(server, images):
    assert get(server.url + "/nowhere")[0] == 404
    assert post(server.url + "/predict", body_of(images[0]), server.key)[0] == 404
    request = urllib.request.Request(server.scoring_url, method="PUT", data=b"{}")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 405
    with ScoringServer(server.model, key="k", max_body_bytes=1000) as small:
        status, out = post(small.scoring_url, body_of("A" * 4000), "k")
        assert status == 413 and "limit is 1000" in out["error"]
        assert post(small.scoring_url, body_of(_png_base64(8, 8)), "k")[0] == 200


def test_unexpected_failures_are_500_without_the_traceback(server, images, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(server.model, "predict", broken)
    with caplog.at_level("ERROR", logger="automl_nb.serve"):
        status, out = post(server.scoring_url, body_of(images[0]), server.key)
    assert status == 500
    assert "secret" not in json.dumps(out) and "Traceback" not in json.dumps(out)
    assert "secret internal detail" in caplog.text


def test_concurrent_requests_take_turns_on_the_model(server, images):
    results = []

    def call(i):
        results.append(post(server.scoring_url, body_of(images[i % 2]), server.key))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 6 and all(status == 200 for status, _ in results)


def test_auth_settings_are_checked_before_anything_is_loaded(tmp_path):
    missing = tmp_path / "no-model"
    with pytest.raises(ConfigError, match="refusing to serve on 0.0.0.0 without a key"):
        ScoringServer(missing, host="0.0.0.0", auth_mode="none")
    with pytest.raises(ConfigError, match="auth_mode"):
        ScoringServer(missing, auth_mode="aml_token")
    with pytest.raises(ConfigError, match="key"):
        ScoringServer(missing, key="  ")


def test_no_auth_on_loopback_and_a_given_key(server, images):
    open_server = ScoringServer(server.model, auth_mode="none")
    with open_server:
        assert open_server.key is None
        status, out = post(open_server.scoring_url, body_of(images[0]))
        assert status == 200 and out[0]["labels"] == LABELS
    with ScoringServer(server.model, key="my-key") as keyed:
        assert post(keyed.scoring_url, body_of(images[0]), "my-key")[0] == 200
        url = keyed.scoring_url
    assert not keyed.running
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, data=b"{}", timeout=5)


def test_detection_endpoint_scores_and_refuses_explanations(tmp_path):
    folder = _build_detector(tmp_path / "detector")
    images = _images_base64(SHARED_DATA / "odFridgeObjects" / "images")
    with ScoringServer(folder, device="cpu") as detector:
        status, out = post(detector.scoring_url, body_of(*images), detector.key)
        assert status == 200, out
        validate_prediction(out, "image_object_detection")
        assert len(out) == 2
        item = json.dumps({"image_base64": images[0], "model_explainability": True})
        status, out = post(detector.scoring_url, body_of(item), detector.key)
        assert status == 400 and out["index"] == 0
        assert "not supported" in out["error"]


def test_parse_without_http():
    (item,) = parse_scoring_request(
        json.dumps(
            body_of(
                json.dumps(
                    {
                        "image_base64": "aGk=",
                        "model_explainability": "True",
                        "xai_parameters": {"xai_algorithm": "guided_backprop"},
                    }
                )
            )
        )
    )
    assert item.image == b"hi" and item.explain
    assert item.xai_parameters == {"xai_algorithm": "guided_backprop"}
    with pytest.raises(ScoringRequestError) as caught:
        parse_scoring_request(json.dumps(body_of("aGk=", "%%%")))
    assert caught.value.index == 1 and caught.value.to_dict()["status"] == 400


def _explain_item(image: str, **params) -> str:
    return json.dumps(
        {
            "image_base64": image,
            "model_explainability": True,
            "xai_parameters": {"xai_algorithm": "integrated_gradients", **params},
        }
    )


def test_n_steps_images_and_depth_have_limits(server, images):
    status, out = post(
        server.scoring_url, body_of(_explain_item(images[0], n_steps=10**8)), server.key
    )
    assert status == 400 and out["index"] == 0 and "n_steps" in out["error"]
    assert "from 1 to 200" in out["error"]
    status, out = post(server.scoring_url, body_of(*[images[0]] * 33), server.key)
    assert status == 413 and "limit is 32" in out["error"]
    deep = b'{"input_data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, out = post(server.scoring_url, None, server.key, raw=deep)
    assert status == 400 and "nested" in out["error"]
    status, out = post(server.scoring_url, {"a": json.loads("[" * 40 + "]" * 40)}, server.key)
    assert status == 400 and "nested more than 32" in out["error"]


def test_limits_are_configurable_and_checked():
    from automl_nb.inference import ScoringLimits

    with pytest.raises(ConfigError, match="max_images"):
        ScoringLimits(max_images=0)
    with pytest.raises(ConfigError, match="request_timeout_s"):
        ScoringLimits(request_timeout_s=-1)
    items = parse_scoring_request(
        json.dumps(body_of(_explain_item("aGk=", n_steps=20))), ScoringLimits(max_n_steps=20)
    )
    assert items[0].xai_parameters["n_steps"] == 20


def test_a_request_past_its_time_limit_is_a_503(server, images):
    from automl_nb.inference import ScoringLimits

    limits = ScoringLimits(request_timeout_s=0.05)
    with ScoringServer(server.model, key="k", limits=limits) as quick:
        body = body_of(*[_explain_item(images[0], n_steps=50)] * 4)
        status, out = post(quick.scoring_url, body, "k")
        assert status == 503 and "limit of 0.05 s" in out["error"]
        assert get(quick.url + "/ready")[0] == 200


def test_probes_and_plain_scoring_do_not_wait_for_an_explanation(server, images):
    import time

    slow = body_of(*[_explain_item(images[0], n_steps=200, internal_batch_size=200)] * 2)
    done: dict[str, float] = {}

    def explain():
        status, _ = post(server.scoring_url, slow, server.key)
        done["explain"] = time.monotonic()
        done["explain_status"] = status

    thread = threading.Thread(target=explain)
    thread.start()
    deadline = time.monotonic() + 30
    while server.explaining == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.explaining == 1, "the explanation did not start"
    status, ready = get(server.url + "/ready")
    assert status == 200 and ready["explanations_running"] == 1
    assert get(server.url + "/health")[0] == 200
    status, out = post(server.scoring_url, body_of(images[0]), server.key)
    scored = time.monotonic()
    assert status == 200 and len(out[0]["probs"]) == 3
    thread.join(timeout=120)
    assert done["explain_status"] == 200
    assert scored < done["explain"], "plain scoring waited for the explanation"
