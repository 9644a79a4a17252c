"""Data preview: a page of images with their labels drawn, class counts, doctor findings."""

from __future__ import annotations

from collections import Counter
from typing import Any

import ipywidgets as widgets

from automl_nb.notebook._html import esc
from automl_nb.notebook._html import png_img
from automl_nb.notebook._plots import plot_class_counts
from automl_nb.notebook._plots import plot_records

ALL = "(all classes)"


def _counts(data: Any) -> tuple[Counter, str]:
    counts = Counter(name for record in data.records for name in record.class_names)
    if data.task.is_detection:
        unit = "objects"
    elif data.task.value.endswith("multilabel"):
        unit = "labels"
    else:
        unit = "images"
    return counts, unit


def summary_text(data: Any) -> str:
    """``109 images, 4 classes``; with the number of objects (detection) or labels
    (multi-label) when it is not the number of images."""
    counts, unit = _counts(data)
    parts = [f"{len(data)} images"]
    if unit != "images":
        parts.append(f"{sum(counts.values())} {unit}")
    parts.append(f"{len(data.labels)} classes ({data.task.value})")
    return ", ".join(parts)


class DataPreview(widgets.VBox):
    """Browse a :class:`~automl_nb.data.LabeledImages` page by page.

    Args:
        data: The labelled images.
        report: A :class:`~automl_nb.data.doctor.DoctorReport` to show, or None.
        per_page: Images per page.

    Attributes:
        records: The records of the current filter (all, or those with the chosen class).
    """

    def __init__(self, data: Any, *, report: Any = None, per_page: int = 12) -> None:
        self.data = data
        self.report = report
        self.per_page = max(1, per_page)
        self.records = list(data.records)
        counts, unit = _counts(data)
        self.summary = widgets.HTML(f"<b>{esc(data.source)}</b>: {esc(summary_text(data))}")
        self.class_filter = widgets.Dropdown(options=[ALL, *data.labels], description="class")
        self.page = widgets.BoundedIntText(value=1, min=1, max=self._pages(), description="page")
        self.prev_button = widgets.Button(description="◀", layout={"width": "40px"})
        self.next_button = widgets.Button(description="▶", layout={"width": "40px"})
        self.grid = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.histogram = widgets.Image(
            value=plot_class_counts(counts, data.labels, f"{unit} per class"), format="png"
        )
        self.findings = widgets.HTML(report._repr_html_() if report is not None else "")
        self.prev_button.on_click(lambda _: self._step(-1))
        self.next_button.on_click(lambda _: self._step(1))
        self.class_filter.observe(self._on_filter, names="value")
        self.page.observe(lambda _: self._draw(), names="value")
        controls = widgets.HBox([self.class_filter, self.prev_button, self.page, self.next_button])
        tabs = widgets.Tab([widgets.VBox([controls, self.grid]), self.histogram, self.findings])
        for index, title in enumerate(("images", "classes", "doctor")):
            tabs.set_title(index, title)
        super().__init__([self.summary, tabs])
        self._draw()

    def _pages(self) -> int:
        return max(1, -(-len(self.records) // self.per_page))

    def _step(self, delta: int) -> None:
        self.page.value = min(self._pages(), max(1, self.page.value + delta))

    def _on_filter(self, change: Any) -> None:
        label = change["new"]
        if label == ALL:
            self.records = list(self.data.records)
        else:
            self.records = [r for r in self.data.records if label in r.class_names]
        self.page.max = self._pages()
        if self.page.value != 1:
            self.page.value = 1  # redraws through the observer
        else:
            self._draw()

    def shown(self) -> list[Any]:
        """The records on the current page."""
        start = (self.page.value - 1) * self.per_page
        return self.records[start : start + self.per_page]

    def _draw(self) -> None:
        self.grid.value = plot_records(self.shown(), self.data.labels)

    def static_html(self) -> str:
        """The summary, the current page, the class counts and the findings as plain HTML:
        what a saved notebook shows where the live widget cannot be rebuilt (no kernel)."""
        parts = [self.summary.value]
        for image, title in ((self.grid, "images"), (self.histogram, "classes")):
            if image.value:
                parts.append(png_img(bytes(image.value), title=title))
        parts.append(self.findings.value)
        return "<div class='automl-nb-data-preview'>" + "".join(parts) + "</div>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """The live widget, plus its static copy (``text/html``) for a notebook reopened
        without its kernel."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None:
            bundle["text/html"] = self.static_html()
        return bundle

    def __repr__(self) -> str:
        counts, unit = _counts(self.data)
        lines = [f"{self.data.source}: {summary_text(self.data)}"]
        lines += [f"  {name}: {counts.get(name, 0)}" for name in self.data.labels]
        if self.report is not None:
            lines.append(str(self.report))
        return "\n".join(lines)
