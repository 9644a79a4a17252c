"""Where pretrained weights come from, and the error when they cannot be had."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from automl_nb.errors import ModelError

_TRUE = {"1", "true", "yes", "on"}


def is_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` is set: no download is tried, only the caches are read.

    The same switch is honoured for torchvision's weights so that one variable makes every
    pretrained model fail fast instead of waiting on the network.
    """
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


@lru_cache(maxsize=16)
def host_reachable(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to ``host`` opens within ``timeout`` seconds.

    Checked once per process before a download, so that a machine without internet gets the
    "cannot download" error in seconds instead of after the Hub client's retries (about 50 s).
    """
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        return False
    return True


def hub_host() -> str:
    """The Hugging Face Hub host (``HF_ENDPOINT`` respected)."""
    from huggingface_hub import constants

    return urlparse(constants.ENDPOINT).hostname or "huggingface.co"


def url_host(url: str) -> str:
    """The host of a download URL."""
    return urlparse(url).hostname or ""


@contextmanager
def hub_offline() -> Iterator[None]:
    """Run Hugging Face Hub calls in offline mode: cached files load, others fail at once."""
    from huggingface_hub import constants

    old = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = old


def hf_cache_dir(hf_hub_id: str) -> Path:
    """The Hugging Face Hub cache folder of a repository id (``timm/resnet50.a1_in1k``)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE) / ("models--" + hf_hub_id.replace("/", "--"))


def torch_hub_file(url: str) -> Path:
    """The file torch.hub caches ``url`` into."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url.split("?")[0])


# Characters of the underlying error kept in the message (whole words).
CAUSE_CHARS = 400


def weights_unavailable(
    model_name: str, weights: str, cache: Path | str, cause: BaseException | str | None = None
) -> ModelError:
    """The plain-words error for pretrained weights that could not be downloaded.

    Args:
        model_name: The user-facing model name.
        weights: What would have been loaded (``resnet50.a1_in1k``).
        cache: Where the weights would be cached.
        cause: The underlying error or reason (its first ``CAUSE_CHARS`` characters).

    Returns:
        The error to raise.
    """
    reason = ""
    if cause is not None:
        text = " ".join(str(cause).split()) or type(cause).__name__
        if len(text) > CAUSE_CHARS:  # cut at a word, and say so
            text = text[:CAUSE_CHARS].rsplit(" ", 1)[0] + " ..."
        reason = f" (the download said: {text})"
    # The advice comes before the cause, so a display that shortens the message keeps it.
    return ModelError(
        f"the pretrained weights for {model_name!r} ({weights}) could not be downloaded. "
        "To go on, either train from scratch with "
        "training_parameters.advanced_settings: '{\"use_pretrained\": false}' "
        "(create_model(..., pretrained=False)), give a local weights file "
        f"(checkpoint_path=...), or copy the weights into {cache} from a machine with "
        f"internet access{reason}."
    )
