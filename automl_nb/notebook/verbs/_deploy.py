"""``deploy``: serve a job's best model (or a model folder) from the kernel, Azure-style."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

from automl_nb.cli._jobs_common import resolve_model_source
from automl_nb.cli._verb_table import scoring_limits
from automl_nb.notebook._html import esc
from automl_nb.notebook._html import pre
from automl_nb.notebook._results import Message
from automl_nb.notebook._results import Result

HELP = """Serve the best model of a job (default: the newest with a best model) or a model folder as a
local endpoint that takes the Azure scoring request, in the background of the kernel. It
binds 127.0.0.1 and needs the key it shows (Authorization: Bearer KEY). One endpoint runs
at a time: deploying again replaces it.

examples:
  %automl_vision deploy
  %automl_vision deploy --model runs/default/fridge-.../best_model --port 5002
  %automl_vision deploy --stop
"""
CELL = "none"

# The endpoint running in this kernel; ``deploy --stop`` stops it.
_RUNNING: dict[str, Any] = {}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--stop`` (the rest is :func:`automl_nb.cli._verb_table.serve_arguments`)."""
    parser.add_argument("--stop", action="store_true", help="stop the running endpoint")


def running_server() -> Any:
    """The :class:`automl_nb.inference.ScoringServer` this kernel runs, or None."""
    return _RUNNING.get("server")


def stop_server() -> str | None:
    """Stop the running endpoint; returns its scoring URL, or None when none ran."""
    server = _RUNNING.pop("server", None)
    if server is None:
        return None
    server.stop()
    return server.scoring_url


def curl_example(url: str, key: str | None) -> str:
    """A ``curl`` call that scores ``image.jpg``."""
    auth = f' -H "Authorization: Bearer {key}"' if key else ""
    return (
        f'curl -s {url}{auth} -H "Content-Type: application/json" \\\n'
        '  -d "{\\"input_data\\": {\\"columns\\": [\\"image\\"], '
        '\\"data\\": [\\"$(base64 -w0 image.jpg)\\"]}}"'
    )


def python_example(url: str, key: str | None) -> str:
    """A ``requests`` call that scores ``image.jpg``."""
    headers = f', headers={{"Authorization": "Bearer {key}"}}' if key else ""
    return (
        "import base64\n"
        "import requests\n\n"
        'with open("image.jpg", "rb") as f:\n'
        "    image = base64.b64encode(f.read()).decode()\n"
        'body = {"input_data": {"columns": ["image"], "data": [image]}}\n'
        f'print(requests.post("{url}", json=body{headers}).json())'
    )


class DeployView(Result):
    """A running endpoint: where it listens, its key, and how to call it.

    Attributes:
        server: The :class:`automl_nb.inference.ScoringServer`.
        url: The scoring URL.
        key: The key (None with ``--no-auth``).
        note: A line shown first (``replaced the endpoint at ...``).
    """

    def __init__(self, server: Any, note: str = "") -> None:
        self.server = server
        self.url = server.scoring_url
        self.key = server.key
        self.note = note

    def stop(self) -> None:
        """Stop the endpoint."""
        if running_server() is self.server:
            stop_server()
        else:
            self.server.stop()

    def _lines(self) -> list[tuple[str, str]]:
        info = self.server.model_info()
        return [
            ("model", f"{info['model_name']} ({info['task']}, {len(info['labels'])} labels)"),
            ("folder", str(info["model_dir"])),
            ("scoring URL", self.url),
            ("key", self.key or "none (auth_mode: none)"),
        ]

    def to_text(self) -> str:
        lines = [self.note] if self.note else []
        lines += [f"{name}: {value}" for name, value in self._lines()]
        lines += ["", curl_example(self.url, self.key), "", python_example(self.url, self.key)]
        lines += ["", "stop: %automl_vision deploy --stop"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td style='text-align:left'><b>{esc(k)}</b></td>"
            f"<td style='text-align:left'><code>{esc(v)}</code></td></tr>"
            for k, v in self._lines()
        )
        note = f"<div>{esc(self.note)}</div>" if self.note else ""
        return (
            f"<div>{note}<table>{rows}</table><b>curl</b>"
            f"{pre(curl_example(self.url, self.key))}<b>Python</b>"
            f"{pre(python_example(self.url, self.key))}"
            "<small>stop: <code>%automl_vision deploy --stop</code></small></div>"
        )


def run(args: argparse.Namespace, ctx: Any) -> Result:
    from automl_nb.inference import ScoringServer

    if args.stop:
        url = stop_server()
        return Message(f"stopped the endpoint at {url}" if url else "no endpoint is running")
    model_dir = resolve_model_source(args, ctx)
    server = ScoringServer(
        model_dir,
        host=args.host,
        port=args.port,
        key=args.key,
        auth_mode="none" if args.no_auth else "key",
        device=args.device or "cpu",
        limits=scoring_limits(args),
    )
    replaced = stop_server()
    try:
        server.start()
    except OSError as exc:
        raise UsageError(f"cannot serve on {args.host}:{args.port}: {exc}") from None
    _RUNNING["server"] = server
    return DeployView(server, f"replaced the endpoint at {replaced}" if replaced else "")
