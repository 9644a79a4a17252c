"""The Azure scoring request body: parse it, score it, and say precisely what is wrong with it.

Accepted bodies (``data`` items in request order, one output per item)::

    {"input_data": {"columns": ["image"], "data": ["<base64>", ...]}}
    {"input_data": {"data": ["<base64>", ...]}}
    {"input_data": {"columns": ["image"], "index": [0], "data": [["<base64>"]]}}  # pandas split

An item may also be ``json.dumps({"image_base64": ..., "model_explainability": true,
"xai_parameters": {...}})`` (or that object itself): the Azure XAI request.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import TypeVar

from automl_nb.data._jsonl import json_depth
from automl_nb.errors import AutoMLError
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.registry import suggest

T = TypeVar("T")

# Keys of ``xai_parameters`` that choose what is returned; the rest go to the explainer.
_XAI_OUTPUT_KEYS = ("xai_algorithm", "visualizations", "attributions")


@dataclass(frozen=True)
class ScoringLimits:
    """What one scoring request may ask for; past a limit it is refused, never slow.

    Attributes:
        max_body_bytes: Larger bodies are refused with 413 (default 50 MB).
        max_images: Images (``input_data.data`` items) per request (default 32); 413 past it.
        max_n_steps: Largest ``xai_parameters.n_steps`` (default 200; attributions converge
            after about 50); also the largest ``internal_batch_size``. 400 past it.
        max_json_depth: Deepest nesting of the JSON body (default 32; a valid request needs
            6). 400 past it.
        request_timeout_s: Seconds a request may take (default 120); the client gets 503
            then, and the work stops at the next image.
        max_concurrent_requests: Scoring requests served at once (default 16); more get 503.
        max_image_pixels: Pixels one image may have (default 25 million, e.g. 5000 x 5000);
            read from the header before decoding, 413 past it.
    """

    max_body_bytes: int = 50 * 1024 * 1024
    max_images: int = 32
    max_n_steps: int = 200
    max_json_depth: int = 32
    request_timeout_s: float = 120.0
    max_concurrent_requests: int = 16
    max_image_pixels: int = 25_000_000

    def __post_init__(self) -> None:
        names = ("max_body_bytes", "max_images", "max_n_steps", "max_json_depth")
        for name in (*names, "max_image_pixels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(
                    Problem("must be a positive integer", path=name, value=repr(value))
                )
        if not (isinstance(self.request_timeout_s, (int, float)) and self.request_timeout_s > 0):
            raise ConfigError(
                Problem(
                    "must be a positive number of seconds",
                    path="request_timeout_s",
                    value=repr(self.request_timeout_s),
                )
            )
        if self.max_concurrent_requests < 1:
            raise ConfigError(Problem("must be at least 1", path="max_concurrent_requests"))


class ScoringRequestError(AutoMLError):
    """A request the endpoint cannot score; it becomes a JSON error response.

    Attributes:
        status: The HTTP status (400 for a bad request).
        message: What is wrong.
        index: The position of the failing ``data`` item, when one item is at fault.
    """

    def __init__(self, message: str, *, status: int = 400, index: int | None = None) -> None:
        self.status = status
        self.message = message
        self.index = index
        where = f"input_data.data[{index}]: " if index is not None else ""
        super().__init__(where + message)

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body: ``{"error": ..., "status": ..., "index"?: ...}``."""
        body: dict[str, Any] = {"error": str(self), "status": self.status}
        if self.index is not None:
            body["index"] = self.index
        return body


@dataclass(frozen=True)
class ScoringItem:
    """One image of a request.

    Attributes:
        index: Its position in ``input_data.data``.
        image: The decoded, encoded-image bytes (PNG, JPEG, ...).
        explain: True when ``model_explainability`` asks for an explanation.
        xai_parameters: The request's ``xai_parameters`` (Azure names).
    """

    index: int
    image: bytes = field(repr=False)
    explain: bool = False
    xai_parameters: dict[str, Any] = field(default_factory=dict)


def _decode_base64(text: str, index: int) -> bytes:
    text = text.strip()
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    # NOTE only base64 is accepted, never a path or URL: a request must not make the server
    # read its own files or fetch other hosts.
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ScoringRequestError("not a valid base64 string", index=index) from None
    if not data:
        raise ScoringRequestError("empty image", index=index)
    return data


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def _loads(text: str | bytes, what: str, index: int | None, limit: int = 32) -> Any:
    """JSON text parsed, refusing bodies nested deeper than ``limit`` (``what`` names it) and
    objects that give a key twice (which one would win is a guess)."""
    prefix = f"{what}: " if what else ""
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys)
        too_deep = json_depth(value, limit) > limit
    except _DuplicateKey as exc:
        raise ScoringRequestError(f"{prefix}key {exc} appears twice", index=index) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScoringRequestError(f"{prefix}not valid JSON: {exc}", index=index) from None
    except RecursionError:
        too_deep = True
    if too_deep:
        raise ScoringRequestError(f"{prefix}JSON nested more than {limit} levels", index=index)
    return value


_ITEM_KEYS = ("image_base64", "image", "model_explainability", "xai_parameters")


def _flag(value: Any, name: str, index: int | None) -> bool:
    """A true/false request value (JSON booleans, or the strings "true" and "false")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ScoringRequestError(f"{name}: must be true or false (got {value!r})", index=index)


def _parse_item(raw: Any, index: int, column: int) -> ScoringItem:
    if isinstance(raw, list):  # a pandas "split" row
        if not raw or column >= len(raw):
            raise ScoringRequestError("row has no image column", index=index)
        raw = raw[column]
    if isinstance(raw, str) and raw.lstrip().startswith("{"):
        raw = _loads(raw, "", index)
    if isinstance(raw, str):
        return ScoringItem(index, _decode_base64(raw, index))
    if not isinstance(raw, Mapping):
        raise ScoringRequestError(
            f"expected a base64 string or an object, got {type(raw).__name__}", index=index
        )
    unknown = [key for key in raw if key not in _ITEM_KEYS]
    if unknown:
        near = suggest(str(unknown[0]), _ITEM_KEYS)
        hint = f"; did you mean {near!r}?" if near else ""
        raise ScoringRequestError(f"unknown key {unknown[0]!r}{hint}", index=index)
    image = raw.get("image_base64", raw.get("image"))
    if not isinstance(image, str):
        raise ScoringRequestError("missing 'image_base64' (a base64 string)", index=index)
    explain = _flag(raw.get("model_explainability", False), "model_explainability", index)
    params = raw.get("xai_parameters") or {}
    if isinstance(params, str):
        params = _loads(params, "xai_parameters", index)
    if not isinstance(params, Mapping):
        raise ScoringRequestError("xai_parameters must be an object", index=index)
    return ScoringItem(index, _decode_base64(image, index), bool(explain), dict(params))


def parse_scoring_request(
    body: bytes | str, limits: ScoringLimits | None = None
) -> list[ScoringItem]:
    """The images of an Azure scoring request body.

    Args:
        body: The raw JSON body.
        limits: The request limits (JSON depth, images per request, ``n_steps``); the
            defaults of :class:`ScoringLimits` when None.

    Returns:
        One :class:`ScoringItem` per ``input_data.data`` item, in order.

    Raises:
        ScoringRequestError: The body is not JSON, has no ``input_data.data`` list, is past
            a limit, or an item is not a base64 image (the error names the item's index).

    Example:
        >>> items = parse_scoring_request(
        ...     '{"input_data": {"columns": ["image"], "data": ["aGk="]}}'
        ... )
        >>> items[0].index, items[0].image, items[0].explain
        (0, b'hi', False)
    """
    limits = limits or ScoringLimits()
    request = _loads(body, "the body", None, limits.max_json_depth)
    if not isinstance(request, Mapping) or "input_data" not in request:
        raise ScoringRequestError(
            'expected {"input_data": {"columns": ["image"], "data": ["<base64 image>", ...]}}'
        )
    input_data = request["input_data"]
    if isinstance(input_data, list):
        input_data = {"data": input_data}
    if not isinstance(input_data, Mapping) or not isinstance(input_data.get("data"), list):
        raise ScoringRequestError("input_data.data must be a list of base64 images")
    columns = input_data.get("columns")
    column = 0
    if columns is not None:
        if not isinstance(columns, list) or "image" not in columns:
            raise ScoringRequestError(f"input_data.columns must include 'image' (got {columns!r})")
        column = columns.index("image")
    data = input_data["data"]
    if not data:
        raise ScoringRequestError("input_data.data is empty")
    if len(data) > limits.max_images:
        raise ScoringRequestError(
            f"input_data.data has {len(data)} images; the limit is {limits.max_images} per "
            "request",
            status=413,
        )
    items = [_parse_item(raw, i, column) for i, raw in enumerate(data)]
    for item in items:
        if item.explain:
            _check_xai_limits(item, limits.max_n_steps)
    return items


def _check_xai_limits(item: ScoringItem, max_n_steps: int) -> None:
    try:
        split_xai_parameters(item.xai_parameters)
    except ScoringRequestError as exc:
        raise ScoringRequestError(exc.message, index=item.index) from None
    threshold = item.xai_parameters.get("confidence_score_threshold_multilabel")
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not 0 <= threshold <= 1
    ):
        raise ScoringRequestError(
            "xai_parameters.confidence_score_threshold_multilabel: must be a number from 0 "
            f"to 1 (got {threshold!r})",
            index=item.index,
        )
    for name, low in (("n_steps", 1), ("internal_batch_size", 1)):
        value = item.xai_parameters.get(name)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not low <= value <= max_n_steps
        ):
            raise ScoringRequestError(
                f"xai_parameters.{name}: must be an integer from {low} to {max_n_steps} "
                f"(got {value!r})",
                index=item.index,
            )


def split_xai_parameters(params: Mapping[str, Any]) -> tuple[str, bool, bool, dict[str, Any]]:
    """``(algorithm, visualizations, attributions, explainer_params)`` from Azure's
    ``xai_parameters`` with Azure's defaults (``xrai``, True, False)."""
    rest = {k: v for k, v in params.items() if k not in _XAI_OUTPUT_KEYS}
    return (
        str(params.get("xai_algorithm") or "xrai"),
        _flag(params.get("visualizations", True), "xai_parameters.visualizations", None),
        _flag(params.get("attributions", False), "xai_parameters.attributions", None),
        rest,
    )


def check_deadline(deadline: float, limits: ScoringLimits) -> None:
    """Raise the 503 "past the time limit" error when ``time.monotonic()`` is past
    ``deadline``."""
    if time.monotonic() > deadline:
        raise ScoringRequestError(
            f"the request took longer than the limit of {limits.request_timeout_s:g} s; "
            "send fewer images or a smaller n_steps",
            status=503,
        )


def run_with_time_limit(work: Callable[[], T], limits: ScoringLimits) -> T:
    """``work()`` in a background thread, waiting at most ``limits.request_timeout_s``.

    Raises:
        ScoringRequestError: 503 when the time is up (``work`` itself should stop at its
            next :func:`check_deadline`); whatever ``work`` raised otherwise.
    """
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["out"] = work()
        except BaseException as exc:  # handed to the waiting thread below
            result["error"] = exc

    worker = threading.Thread(target=run, name="automl-nb-score", daemon=True)
    worker.start()
    worker.join(limits.request_timeout_s)
    if worker.is_alive():
        check_deadline(0.0, limits)
    if "error" in result:
        raise result["error"]
    return result["out"]


def check_image_pixels(item: ScoringItem, limits: ScoringLimits) -> None:
    """Refuse an image whose header claims more than ``limits.max_image_pixels`` (413).

    Only the header is read: a few hundred bytes of PNG can claim a canvas of gigabytes.
    Images Pillow cannot open are left to the decoder, which names the problem.
    """
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(item.image)) as image:
            width, height = image.size
    except Image.DecompressionBombError:
        width, height = limits.max_image_pixels + 1, 1
    except Exception:  # not an image: the decoder says why, with the item's index
        return
    if width * height > limits.max_image_pixels:
        raise ScoringRequestError(
            f"the image has {width} x {height} pixels; the limit is "
            f"{limits.max_image_pixels} pixels per image",
            status=413,
            index=item.index,
        )
