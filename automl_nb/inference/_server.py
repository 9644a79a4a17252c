"""A local scoring endpoint that speaks the Azure ML online-endpoint protocol.

Routes:

* ``POST /score``: the Azure scoring request (see ``_scoring.py``); answers the Azure scoring
  output list. Needs ``Authorization: Bearer <key>`` unless the server runs with
  ``auth_mode="none"``.
* ``GET /`` and ``GET /health``: ``{"status": "healthy"}`` without a key, as a liveness probe;
  with a valid key the answer adds the model (name, task, labels).
* ``GET /ready``: ``{"status": "ready", "explanations_running": n}``, a readiness probe.

The probes never wait for the model, and plain scoring never waits for an explanation: the
explanations run on their own copy of the model, one at a time.

Limits (:class:`~automl_nb.inference.ScoringLimits`, ``automl-vision serve`` options): body
size (50 MB, 413), images per request (32, 413), pixels per image (25 million, 413; a small
PNG can claim a huge canvas), JSON depth (32, 400), ``xai_parameters``
``n_steps`` and ``internal_batch_size`` (200, 400), time per request (120 s, 503) and
scoring requests at once (16, 503). A client that stops sending gets 408 (its socket reads wait
at most 30 s, or the request limit when shorter); the body is read before a request slot is
taken, so slow uploads never hold one. Bodies that give a JSON key twice are a 400.

Errors are JSON ``{"error": ..., "status": ..., "index"?: ...}``: 400 for a bad body or image
(``index`` names the ``data`` item), 401 for a missing or wrong key, 404, 405, 411, 413 for a
body or image count over a limit, 503 when busy or past the time limit, and 500 for an
unexpected failure (logged with its traceback, which the client never sees).
"""

from __future__ import annotations

import copy
import dataclasses
import hmac
import logging
import os
import secrets
import threading
import time
from typing import Any

from automl_nb.errors import ConfigError
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.inference._http import _Handler
from automl_nb.inference._http import _HTTPServer
from automl_nb.inference._http import _HTTPServer6
from automl_nb.inference._http import is_loopback
from automl_nb.inference._scoring import ScoringItem
from automl_nb.inference._scoring import ScoringLimits
from automl_nb.inference._scoring import ScoringRequestError
from automl_nb.inference._scoring import check_deadline
from automl_nb.inference._scoring import check_image_pixels
from automl_nb.inference._scoring import parse_scoring_request
from automl_nb.inference._scoring import run_with_time_limit
from automl_nb.inference._scoring import split_xai_parameters
from automl_nb.registry import not_one_of

logger = logging.getLogger("automl_nb.serve")

DEFAULT_MAX_BODY_BYTES = ScoringLimits.max_body_bytes
AUTH_MODES = ("key", "none")


class ScoringServer:
    """A trained model behind a local HTTP endpoint with the Azure scoring protocol.

    The model is loaded once; requests are served in threads. Plain predictions take turns
    on the model; explanations take turns on a copy of it, so neither waits for the other,
    and the probes wait for neither.

    Args:
        model_dir: A model folder (or a job/trial folder holding one), or a ``LoadedModel``.
        host: The interface to bind; 127.0.0.1 by default. Any other address is reachable
            from other machines (a warning is logged).
        port: The TCP port; 0 picks a free one (read it from :attr:`url`).
        key: The key clients send as ``Authorization: Bearer <key>``; a random one
            (``secrets.token_urlsafe``) when None.
        auth_mode: ``"key"`` (default, as Azure) or ``"none"``, allowed only on a loopback host.
        device: Where to load a model folder (default: CUDA when available).
        max_body_bytes: Larger request bodies are refused with 413 (default 50 MB).
        limits: The other request limits (:class:`ScoringLimits`: images per request,
            ``n_steps``, JSON depth, time per request, requests at once);
            ``max_body_bytes`` wins over ``limits.max_body_bytes``.

    Raises:
        ConfigError: A bad ``auth_mode``, an empty key, no auth on a non-loopback host, or
            a bad limit.

    Example:
        >>> with ScoringServer("runs/fridge/best_model") as server:  # doctest: +SKIP
        ...     print(server.scoring_url, server.key)
    """

    def __init__(
        self,
        model_dir: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        key: str | None = None,
        auth_mode: str = "key",
        device: Any = None,
        max_body_bytes: int | None = None,
        limits: ScoringLimits | None = None,
    ) -> None:
        if auth_mode not in AUTH_MODES:
            raise ConfigError(not_one_of(auth_mode, AUTH_MODES, path="auth_mode"))
        if auth_mode == "none" and not is_loopback(host):
            raise ConfigError(
                Problem(
                    f"refusing to serve on {host} without a key: auth_mode 'none' is only "
                    "allowed on a loopback host (127.0.0.1, ::1, localhost)",
                    path="auth_mode",
                )
            )
        if auth_mode == "key" and key is not None and not key.strip():
            raise ConfigError(Problem("must not be empty", path="key"))
        self.host = host
        self.port = int(port)
        self.auth_mode = auth_mode
        self.key: str | None = None
        if auth_mode == "key":
            self.key = key if key is not None else secrets.token_urlsafe(32)
        limits = limits or ScoringLimits()
        if max_body_bytes is not None:
            limits = dataclasses.replace(limits, max_body_bytes=max_body_bytes)
        self.limits = limits
        self.max_body_bytes = limits.max_body_bytes
        self.request_slots = threading.BoundedSemaphore(limits.max_concurrent_requests)
        self.model = self._load(model_dir, device)
        self._explainable: Any = None
        self._lock = threading.Lock()
        self._explain_lock = threading.Lock()
        self._explaining = 0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @staticmethod
    def _load(model_dir: Any, device: Any) -> Any:
        from automl_nb.inference._predictor import LoadedModel
        from automl_nb.inference._predictor import load_model

        if isinstance(model_dir, LoadedModel):
            return model_dir
        return load_model(os.fspath(model_dir), device=device)

    # -- scoring ----------------------------------------------------------------------------

    def authorized(self, header: str | None) -> bool:
        """True when ``header`` (the ``Authorization`` value) carries the key, or no key is
        needed. The comparison takes the same time whatever the key."""
        if self.auth_mode == "none":
            return True
        scheme, _, token = (header or "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(token.strip().encode("utf-8"), str(self.key).encode("utf-8"))

    def model_info(self) -> dict[str, Any]:
        """The model's name, task, labels and folder."""
        return {
            "model_name": self.model.model_name,
            "task": self.model.task.value,
            "labels": list(self.model.labels),
            "model_dir": str(self.model.model_dir) if self.model.model_dir else None,
        }

    def _image(self, item: ScoringItem) -> Any:
        from automl_nb.inference._images import load_image

        check_image_pixels(item, self.limits)
        try:
            return load_image(item.image, where=f"input_data.data[{item.index}]")
        except DataError as exc:
            message = exc.problems[0].message if exc.problems else str(exc)
            raise ScoringRequestError(message, index=item.index) from None

    def _explain(self, item: ScoringItem, image: Any) -> dict[str, Any]:
        from automl_nb.explain import as_explainable
        from automl_nb.explain import explain

        if not self.model.task.is_classification:
            raise ScoringRequestError(
                f"model_explainability is not supported for {self.model.task.value}; "
                "only classification models are explained",
                index=item.index,
            )
        if self._explainable is None:
            # Explainers hook into the model (guided backprop swaps ReLU gradients): they get
            # their own copy, so plain predictions never see the hooks nor wait for them.
            self._explainable = as_explainable(self.model)
            self._explainable.model = copy.deepcopy(self.model.model)
        algorithm, visualizations, attributions, params = split_xai_parameters(item.xai_parameters)
        try:
            (result,) = explain(
                self._explainable,
                [image],
                algorithm=algorithm,
                visualizations=visualizations,
                attributions=attributions,
                **params,
            )
        except (ConfigError, TypeError) as exc:
            raise ScoringRequestError(f"xai_parameters: {exc}", index=item.index) from None
        return result

    @property
    def explaining(self) -> int:
        """How many explanations are running (0 or 1: they take turns)."""
        return self._explaining

    def score(self, body: bytes | str, *, deadline: float | None = None) -> list[dict[str, Any]]:
        """Score a raw Azure request body, as ``POST /score`` does (no HTTP, no auth).

        Args:
            body: The JSON request body.
            deadline: ``time.monotonic()`` value after which the work stops at the next
                image (503); default now plus ``limits.request_timeout_s``.

        Returns:
            The Azure scoring output list, one dict per ``data`` item.

        Raises:
            ScoringRequestError: A bad body or image (naming the failing item), a request
                past a limit, or one past its time.
        """
        if deadline is None:
            deadline = time.monotonic() + self.limits.request_timeout_s
        items = parse_scoring_request(body, self.limits)
        images = [self._image(item) for item in items]
        plain = [i for i, item in enumerate(items) if not item.explain]
        out: list[dict[str, Any]] = [{} for _ in items]
        if plain:
            with self._lock:
                check_deadline(deadline, self.limits)
                predictions = self.model.predict([images[i] for i in plain])
            for i, prediction in zip(plain, predictions):
                out[i] = prediction
        explained = [i for i, item in enumerate(items) if item.explain]
        if explained:
            if not self._explain_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                check_deadline(0.0, self.limits)
            self._explaining += 1
            try:
                for i in explained:
                    check_deadline(deadline, self.limits)
                    out[i] = self._explain(items[i], images[i])
            finally:
                self._explaining -= 1
                self._explain_lock.release()
        return out

    def score_with_time_limit(self, body: bytes | str) -> list[dict[str, Any]]:
        """:meth:`score`, answering 503 once ``limits.request_timeout_s`` has passed.

        The work goes on in a background thread until its next image, then stops.
        """
        deadline = time.monotonic() + self.limits.request_timeout_s
        return run_with_time_limit(lambda: self.score(body, deadline=deadline), self.limits)

    # -- serving ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL (``http://127.0.0.1:PORT``); the port is known once started."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def scoring_url(self) -> str:
        """The URL to POST scoring requests to (``.../score``)."""
        return f"{self.url}/score"

    @property
    def running(self) -> bool:
        """True while the server accepts requests."""
        return self._httpd is not None

    def _bind(self) -> _HTTPServer:
        if self._httpd is not None:
            raise RuntimeError(f"already serving on {self.url}")
        if not is_loopback(self.host):
            logger.warning(
                "serving on %s: other machines can reach this endpoint (the key is required)",
                self.host,
            )
        cls = _HTTPServer6 if ":" in self.host else _HTTPServer
        try:
            httpd = cls((self.host.strip("[]"), self.port), _Handler)
        except (OSError, OverflowError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(
                Problem(f"cannot listen on {self.host}:{self.port}: {reason}", path="port")
            ) from None
        httpd.app = self
        self.port = int(httpd.server_address[1])
        self._httpd = httpd
        return httpd

    def start(self) -> str:
        """Serve in a background thread.

        Returns:
            The scoring URL.

        Raises:
            OSError: The port cannot be bound.
        """
        httpd = self._bind()
        self._thread = threading.Thread(
            target=httpd.serve_forever, name=f"automl-nb-serve-{self.port}", daemon=True
        )
        self._thread.start()
        return self.scoring_url

    def serve_forever(self) -> None:
        """Serve in this thread until :meth:`stop` (from another thread) or Ctrl-C."""
        httpd = self._bind()
        try:
            httpd.serve_forever()
        finally:
            self._close()

    def stop(self) -> None:
        """Stop serving and release the port (a no-op when not running)."""
        httpd = self._httpd
        if httpd is None:
            return
        httpd.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._close()

    def _close(self) -> None:
        if self._httpd is not None:
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScoringServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.scoring_url if self.running else "stopped"
        return f"ScoringServer({self.model.model_name!r}, {state}, auth_mode={self.auth_mode!r})"


def serve(model_dir: Any, **kwargs: Any) -> None:
    """Serve a model until Ctrl-C, printing the scoring URL and the key once.

    Args:
        model_dir: A model folder or a ``LoadedModel``.
        **kwargs: :class:`ScoringServer` options (``host``, ``port``, ``key``, ``auth_mode``,
            ``device``, ``max_body_bytes``, ``limits``).
    """
    server = ScoringServer(model_dir, **kwargs)
    httpd = server._bind()
    print(f"scoring URL: {server.scoring_url}", flush=True)
    if server.key is not None:
        print(f"key: {server.key}", flush=True)
        print("send it as the header 'Authorization: Bearer <key>'", flush=True)
    else:
        print("auth: none (loopback only)", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._close()
