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
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from automl_nb.errors import AutoMLError

# Keys of ``xai_parameters`` that choose what is returned; the rest go to the explainer.
_XAI_OUTPUT_KEYS = ("xai_algorithm", "visualizations", "attributions")


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


def _parse_item(raw: Any, index: int, column: int) -> ScoringItem:
    if isinstance(raw, list):  # a pandas "split" row
        if not raw or column >= len(raw):
            raise ScoringRequestError("row has no image column", index=index)
        raw = raw[column]
    if isinstance(raw, str) and raw.lstrip().startswith("{"):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ScoringRequestError(f"not valid JSON: {exc.msg}", index=index) from None
    if isinstance(raw, str):
        return ScoringItem(index, _decode_base64(raw, index))
    if not isinstance(raw, Mapping):
        raise ScoringRequestError(
            f"expected a base64 string or an object, got {type(raw).__name__}", index=index
        )
    image = raw.get("image_base64", raw.get("image"))
    if not isinstance(image, str):
        raise ScoringRequestError("missing 'image_base64' (a base64 string)", index=index)
    explain = raw.get("model_explainability", False)
    if isinstance(explain, str):
        explain = explain.strip().lower() == "true"
    params = raw.get("xai_parameters") or {}
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except json.JSONDecodeError as exc:
            raise ScoringRequestError(
                f"xai_parameters: not valid JSON: {exc.msg}", index=index
            ) from None
    if not isinstance(params, Mapping):
        raise ScoringRequestError("xai_parameters must be an object", index=index)
    return ScoringItem(index, _decode_base64(image, index), bool(explain), dict(params))


def parse_scoring_request(body: bytes | str) -> list[ScoringItem]:
    """The images of an Azure scoring request body.

    Args:
        body: The raw JSON body.

    Returns:
        One :class:`ScoringItem` per ``input_data.data`` item, in order.

    Raises:
        ScoringRequestError: The body is not JSON, has no ``input_data.data`` list, or an
            item is not a base64 image (the error names the item's index).

    Example:
        >>> items = parse_scoring_request(
        ...     '{"input_data": {"columns": ["image"], "data": ["aGk="]}}'
        ... )
        >>> items[0].index, items[0].image, items[0].explain
        (0, b'hi', False)
    """
    try:
        request = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScoringRequestError(f"the body is not valid JSON: {exc}") from None
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
    return [_parse_item(raw, i, column) for i, raw in enumerate(data)]


def split_xai_parameters(params: Mapping[str, Any]) -> tuple[str, bool, bool, dict[str, Any]]:
    """``(algorithm, visualizations, attributions, explainer_params)`` from Azure's
    ``xai_parameters`` with Azure's defaults (``xrai``, True, False)."""
    rest = {k: v for k, v in params.items() if k not in _XAI_OUTPUT_KEYS}
    return (
        str(params.get("xai_algorithm") or "xrai"),
        bool(params.get("visualizations", True)),
        bool(params.get("attributions", False)),
        rest,
    )
