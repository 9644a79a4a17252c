"""Small HTML builders shared by the result objects and widgets (no templates)."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

STATE_COLOURS = {
    "completed": "#1a7f37",
    "running": "#0969da",
    "queued": "#6e7781",
    "pruned": "#9a6700",
    "failed": "#cf222e",
    "canceled": "#6e7781",
    "stopped": "#9a6700",
    "timeout": "#cf222e",
    "interrupted": "#9a6700",
}


def esc(value: Any) -> str:
    """HTML-escape ``str(value)``."""
    return html.escape("" if value is None else str(value))


def state_badge(state: str) -> str:
    """A coloured state label."""
    colour = STATE_COLOURS.get(state, "#6e7781")
    return f"<span style='color:{colour};font-weight:600'>{esc(state)}</span>"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, raw: bool = False) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then they are trusted HTML)."""
    cell = (lambda v: "" if v is None else str(v)) if raw else esc
    head = "".join(f"<th style='text-align:left'>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'>{cell(v)}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f"<table class='automl-nb'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def text_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table with aligned columns (for terminals)."""
    data = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in data:
        widths = [max(w, len(v)) for w, v in zip(widths, row)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in data]
    return "\n".join(lines)


def pre(text: str) -> str:
    """Preformatted text."""
    return f"<pre style='margin:0'>{esc(text)}</pre>"


def png_img(png: bytes, *, width: int | None = None, title: str | None = None) -> str:
    """An inline ``<img>`` of PNG bytes, at its own size (or ``width``) and never wider than
    the output area."""
    data = base64.b64encode(png).decode("ascii")
    size = (f" width='{width}'" if width else "") + " style='max-width:100%;height:auto'"
    alt = f" title='{esc(title)}' alt='{esc(title)}'" if title else ""
    return f"<img src='data:image/png;base64,{data}'{size}{alt}/>"


def fmt_number(value: Any, digits: int = 4) -> str:
    """A metric value for a table: ``0.8125`` or ``""``."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_seconds(seconds: float | None) -> str:
    """``75`` -> ``"1m15s"``."""
    if seconds is None:
        return ""
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def fmt_params(params: dict[str, Any], *, limit: int = 4) -> str:
    """``{"model_name": "resnet18", "learning_rate": 0.01}`` -> ``"resnet18, lr=0.01"``-ish."""
    short = {"learning_rate": "lr", "number_of_epochs": "epochs", "training_batch_size": "bs"}
    parts: list[str] = []
    for key, value in params.items():
        if key == "model_name":
            parts.insert(0, str(value))
            continue
        if isinstance(value, float):
            value = f"{value:.4g}"
        parts.append(f"{short.get(key, key)}={value}")
    return ", ".join(parts[:limit]) + (", ..." if len(parts) > limit else "")
