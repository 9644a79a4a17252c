"""PNG plots of training and validation results (matplotlib ``Figure`` + Agg, never pyplot,
so they work in any thread or process without a display)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Keys of an epoch record that are not curves.
_NOT_CURVES = {"epoch", "step", "time", "timestamp", "elapsed", "elapsed_s"}


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _colors(n: int) -> list:
    import colorcet

    palette = colorcet.glasbey_category10
    return [palette[i % len(palette)] for i in range(n)]


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def _epoch_axis(ax: Any, last: int) -> None:
    """Whole epochs from 1 to ``last``, half an epoch of margin (one epoch is one tick)."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlim(0.5, last + 0.5)
    if last <= 10:
        ax.set_xticks(range(1, last + 1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def plot_epoch_curves(history: Sequence[dict[str, Any]], path: str | Path) -> Path | None:
    """Per-epoch curves: losses, learning rate and metrics in three panels.

    Args:
        history: One record per epoch (``{"epoch": 1, "train_loss": ..., "learning_rate":
            ..., "accuracy": ...}``); any numeric key is plotted, missing values skipped.
        path: The PNG file to write.

    Returns:
        ``path``, or ``None`` when ``history`` has nothing to plot.
    """
    keys: list[str] = []
    for rec in history:
        for k, v in rec.items():
            if k not in _NOT_CURVES and k not in keys and _numeric(v):
                keys.append(k)
    if not keys:
        return None
    # One panel per unit, so a metric in [0, 1] never shares an axis with seconds.
    units = {
        "seconds": [k for k in keys if k.endswith("seconds") and k != "images_per_second"],
        "images per second": [k for k in keys if k == "images_per_second"],
        "GPU memory (MB)": [k for k in keys if k == "gpu_memory_mb"],
    }
    panels = {
        "loss": [k for k in keys if "loss" in k],
        "learning rate": [k for k in keys if k in ("learning_rate", "lr")],
    }
    taken = {k for ks in [*panels.values(), *units.values()] for k in ks}
    panels["metrics"] = [k for k in keys if k not in taken]
    panels.update(units)
    # A curve that is zero throughout (GPU memory on a CPU) is not worth a panel.
    panels = {
        title: ks
        for title, ks in panels.items()
        if ks and any(_numeric(rec.get(k)) and rec.get(k) != 0 for rec in history for k in ks)
    }
    if not panels:
        return None
    columns = min(2, len(panels))
    rows = -(-len(panels) // columns)
    # Two panels a row: readable at notebook width (about 900 px) however many there are.
    fig = _figure(4.6 * columns, 3.0 * rows)
    axes = fig.subplots(rows, columns, squeeze=False).flat
    for ax in list(axes)[len(panels) :]:
        ax.set_axis_off()
    axes = fig.axes
    for ax, (title, ks) in zip(axes, panels.items()):
        last = 1
        for key, color in zip(ks, _colors(len(ks))):
            pts = [
                (rec.get("epoch", i + 1), rec[key])
                for i, rec in enumerate(history)
                if _numeric(rec.get(key))
            ]
            if pts:
                xs, ys = zip(*pts)
                last = max(last, int(max(xs)))
                ax.plot(xs, ys, marker="o", markersize=3, color=color, label=key)
        _epoch_axis(ax, last)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return _save(fig, path)


def plot_confusion_matrix(
    metrics: dict[str, Any], labels: Sequence[str], path: str | Path
) -> Path | None:
    """The confusion matrix of :func:`classification_metrics`, rows normalised, counts shown.

    Returns:
        ``path``, or ``None`` when ``metrics`` has no ``confusion_matrix`` (multi-label).
    """
    import colorcet

    matrix = metrics.get("confusion_matrix")
    if not matrix:
        return None
    counts = np.asarray(matrix, dtype=float)
    rows = counts.sum(1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    n = len(labels)
    side = min(2.0 + 0.6 * n, 14.0)
    fig = _figure(side + 1.2, side)
    ax = fig.subplots()
    image = ax.imshow(share, cmap=colorcet.cm["blues"], vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of true class")
    ax.set_xticks(range(n), labels, rotation=45, ha="right")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if n <= 30:
        for i in range(n):
            for j in range(n):
                color = "white" if share[i, j] > 0.5 else "black"
                ax.text(
                    j,
                    i,
                    f"{int(counts[i, j])}",
                    ha="center",
                    va="center",
                    color=color,
                    fontsize="small",
                )
    return _save(fig, path)


def plot_pr_curves(metrics: dict[str, Any], path: str | Path) -> Path | None:
    """Precision-recall curves per class (classification or detection metrics).

    Returns:
        ``path``, or ``None`` when ``metrics`` has no ``pr_curves``.
    """
    curves = metrics.get("pr_curves") or {}
    if not curves:
        return None
    per_class = metrics.get("per_class", {})
    fig = _figure(5.6, 4.4)
    ax = fig.subplots()
    for (label, curve), color in zip(curves.items(), _colors(len(curves))):
        ap = (per_class.get(label) or {}).get("average_precision")
        name = f"{label} (AP {ap:.3f})" if isinstance(ap, float) else label
        r = [np.nan if v is None else v for v in curve["recall"]]
        p = [np.nan if v is None else v for v in curve["precision"]]
        ax.plot(r, p, color=color, label=name)
    ax.set_xlim(0, 1.0)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.grid(alpha=0.3)
    # Many classes: the legend goes beside the plot rather than over the curves.
    if len(curves) > 6:
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    else:
        ax.legend(fontsize="small", loc="lower left")
    return _save(fig, path)
