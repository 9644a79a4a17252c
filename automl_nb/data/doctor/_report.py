"""The doctor's result: statistics, findings and the YAML to fix them, as text, HTML or dict."""

from __future__ import annotations

import html
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from automl_nb.tasks import Task

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One observation about the dataset.

    Attributes:
        severity: ``error`` (training will fail or be wrong), ``warning`` (likely to hurt
            results) or ``info``.
        code: Stable identifier (``small_objects``, ``class_imbalance``, ...).
        message: What was found and what to do, in plain words.
        yaml: The exact job-YAML fragment to apply, when there is one.
        items: A few example files or classes.
    """

    severity: str
    code: str
    message: str
    yaml: str | None = None
    items: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "yaml": self.yaml,
            "items": list(self.items),
        }


@dataclass
class DoctorReport:
    """Statistics and findings for one dataset (see :func:`diagnose`).

    Attributes:
        task: The dataset's task.
        source: Where the data came from.
        images: Number of images.
        labels: Class names.
        class_counts: Objects (detection) or images (classification) per class.
        images_per_class: Images containing each class.
        labels_per_image: Histogram ``{n: images}`` of labels (multi-label) or objects
            (detection) per image.
        background_images: Images with no object / no label.
        crowd_objects: Objects marked ``isCrowd``.
        input_size: Model input size the object sizes refer to (crop size for
            classification, ``min_size`` for detection).
        object_sizes: Histogram ``{bin: objects}`` of object size (square root of box area)
            in pixels after the model's resize.
        image_sizes: ``{"width": {min, median, max}, "height": {...}}``.
        image_modes: ``{PIL mode: images}`` (``L`` grayscale, ``P`` palette, ...).
        broken: ``[(path, reason)]`` for missing and undecodable files.
        exact_duplicates: Groups of paths with identical bytes.
        near_duplicates: Groups of paths that look the same (perceptual hash).
        cross_split_duplicates: ``[(train path, validation path, "exact"|"near")]``.
        findings: Observations and recommendations, most severe first.
        seconds: How long the diagnosis took.
    """

    task: Task
    source: str | None
    images: int
    labels: list[str]
    class_counts: dict[str, int] = field(default_factory=dict)
    images_per_class: dict[str, int] = field(default_factory=dict)
    labels_per_image: dict[int, int] = field(default_factory=dict)
    background_images: int = 0
    crowd_objects: int = 0
    input_size: int | None = None
    object_sizes: dict[str, int] = field(default_factory=dict)
    image_sizes: dict[str, dict[str, float]] = field(default_factory=dict)
    image_modes: dict[str, int] = field(default_factory=dict)
    broken: list[tuple[str, str]] = field(default_factory=list)
    exact_duplicates: list[list[str]] = field(default_factory=list)
    near_duplicates: list[list[str]] = field(default_factory=list)
    cross_split_duplicates: list[tuple[str, str, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no finding is an error."""
        return not any(f.severity == "error" for f in self.findings)

    @property
    def recommended_yaml(self) -> str:
        """All recommended ``training_parameters`` merged into one YAML block ('' if none)."""
        lines: list[str] = []
        for finding in self.findings:
            if finding.yaml:
                for line in finding.yaml.splitlines():
                    if line.strip() and line not in lines:
                        lines.append(line)
        body = [line for line in lines if line != "training_parameters:"]
        return "\n".join(["training_parameters:", *body]) if body else ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of the whole report."""
        return {
            "task": str(self.task),
            "source": self.source,
            "ok": self.ok,
            "images": self.images,
            "labels": list(self.labels),
            "class_counts": dict(self.class_counts),
            "images_per_class": dict(self.images_per_class),
            "labels_per_image": {str(k): v for k, v in self.labels_per_image.items()},
            "background_images": self.background_images,
            "crowd_objects": self.crowd_objects,
            "input_size": self.input_size,
            "object_sizes": dict(self.object_sizes),
            "image_sizes": {k: dict(v) for k, v in self.image_sizes.items()},
            "image_modes": dict(self.image_modes),
            "broken": [list(b) for b in self.broken],
            "exact_duplicates": [list(g) for g in self.exact_duplicates],
            "near_duplicates": [list(g) for g in self.near_duplicates],
            "cross_split_duplicates": [list(p) for p in self.cross_split_duplicates],
            "findings": [f.to_dict() for f in self.findings],
            "recommended_yaml": self.recommended_yaml,
            "seconds": round(self.seconds, 3),
        }

    # ----------------------------------------------------------------- text
    def _unit(self) -> str:
        return "objects" if self.task.is_detection else "images"

    def __str__(self) -> str:
        lines = [f"Dataset check: {self.source or 'records'} ({self.task})"]
        lines.append(f"  images: {self.images}")
        if self.task is not Task.CLASSIFICATION:
            lines[-1] += f" ({self.background_images} without labels)"
        total = sum(self.class_counts.values())
        lines.append(f"  {self._unit()} per class ({len(self.labels)} classes, {total} in all):")
        width = max((len(n) for n in self.class_counts), default=0)
        peak = max(self.class_counts.values(), default=0) or 1
        for name, n in self.class_counts.items():
            bar = "#" * max(1, round(20 * n / peak)) if n else ""
            lines.append(f"    {name:<{width}}  {n:>6}  {bar}")
        if self.labels_per_image and self.task is not Task.CLASSIFICATION:
            what = "objects" if self.task.is_detection else "labels"
            hist = ", ".join(f"{k}: {v}" for k, v in sorted(self.labels_per_image.items()))
            lines.append(f"  {what} per image (count: images): {hist}")
        if self.object_sizes:
            lines.append(f"  object size after resize to {self.input_size} px (sqrt of box area):")
            lines += [f"    {b:>9} px  {n}" for b, n in self.object_sizes.items()]
        if self.image_sizes:
            w, h = self.image_sizes["width"], self.image_sizes["height"]
            lines.append(
                f"  image size: width {w['min']:.0f}-{w['max']:.0f} (median {w['median']:.0f}), "
                f"height {h['min']:.0f}-{h['max']:.0f} (median {h['median']:.0f})"
            )
        if self.image_modes:
            lines.append(
                "  image modes: " + ", ".join(f"{m} {n}" for m, n in self.image_modes.items())
            )
        lines.append(
            f"  broken files: {len(self.broken)}; duplicate groups: {len(self.exact_duplicates)} exact,"
            f" {len(self.near_duplicates)} near"
            + (
                f"; train/validation duplicates: {len(self.cross_split_duplicates)}"
                if self.cross_split_duplicates
                else ""
            )
        )
        if self.findings:
            lines.append("findings:")
            for f in self.findings:
                lines.append(f"  [{f.severity}] {f.message}")
                if f.items:
                    lines.append("      e.g. " + ", ".join(f.items[:3]))
                if f.yaml:
                    lines += ["      " + line for line in f.yaml.splitlines()]
        else:
            lines.append("findings: none")
        lines.append(f"({self.seconds:.2f} s)")
        return "\n".join(lines)

    # ----------------------------------------------------------------- HTML
    def _repr_html_(self) -> str:
        e = html.escape
        colour = {"error": "#c62828", "warning": "#ef6c00", "info": "#1565c0"}
        parts = [
            "<div class='automl-nb-doctor'>",
            f"<h4>Dataset check: {e(str(self.source or 'records'))} <small>({e(str(self.task))})</small></h4>",
            f"<table><tr><th style='text-align:left'>images</th><td>{self.images}</td></tr>",
            f"<tr><th style='text-align:left'>classes</th><td>{len(self.labels)}</td></tr>",
        ]
        if self.task is not Task.CLASSIFICATION:
            parts.append(
                f"<tr><th style='text-align:left'>without labels</th><td>{self.background_images}</td></tr>"
            )
        parts.append(
            f"<tr><th style='text-align:left'>broken files</th><td>{len(self.broken)}</td></tr>"
            f"<tr><th style='text-align:left'>duplicate groups</th><td>{len(self.exact_duplicates)} exact, "
            f"{len(self.near_duplicates)} near</td></tr></table>"
        )
        peak = max(self.class_counts.values(), default=0) or 1
        parts.append(
            f"<table><tr><th>class</th><th>{self._unit()}</th><th>images</th><th></th></tr>"
        )
        for name, n in self.class_counts.items():
            width = round(150 * n / peak)
            parts.append(
                f"<tr><td>{e(name)}</td><td style='text-align:right'>{n}</td>"
                f"<td style='text-align:right'>{self.images_per_class.get(name, 0)}</td>"
                f"<td><div style='background:#4c78a8;height:0.8em;width:{width}px'></div></td></tr>"
            )
        parts.append("</table>")
        if self.object_sizes:
            parts.append(
                f"<table><tr><th>object size after resize to {self.input_size} px</th><th>objects</th></tr>"
            )
            parts += [
                f"<tr><td>{e(b)} px</td><td style='text-align:right'>{n}</td></tr>"
                for b, n in self.object_sizes.items()
            ]
            parts.append("</table>")
        if self.findings:
            parts.append("<ul>")
            for f in self.findings:
                item = f"<li><b style='color:{colour.get(f.severity, '#000')}'>{e(f.severity)}</b> {e(f.message)}"
                if f.yaml:
                    item += f"<pre>{e(f.yaml)}</pre>"
                parts.append(item + "</li>")
            parts.append("</ul>")
        else:
            parts.append("<p>No problems found.</p>")
        parts.append("</div>")
        return "".join(parts)
