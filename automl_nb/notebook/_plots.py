"""Plots as PNG bytes: matplotlib ``Figure`` + Agg canvas, never pyplot, so they can be drawn
from the dashboard's thread. Colours come from colorcet."""

from __future__ import annotations

import io
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from automl_nb.notebook._jobs import JobSnapshot
from automl_nb.notebook._threshold import termination_threshold


def palette(n: int) -> list[str]:
    """``n`` distinct colours (colorcet glasbey), cycling past its length."""
    import colorcet

    colours = list(colorcet.glasbey_dark)
    return [colours[i % len(colours)] for i in range(max(n, 1))]


def new_figure(width: float, height: float) -> Any:
    """A Figure with its own Agg canvas (thread-safe, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Any, dpi: int = 80) -> bytes:
    """Render a Figure to PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


# End markers by state; drawn in the trial's own colour so stopped trials stay apart.
_MARKERS = {"pruned": "x", "failed": "X", "canceled": "s", "timeout": "s", "running": "o"}


def _integer_axis(ax: Any, low: int, high: int) -> None:
    """Whole-number ticks from ``low`` to ``high`` with half a step of margin (one epoch or
    one trial gets one tick, not 0.95...1.05)."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlim(low - 0.5, high + 0.5)
    if high - low < 10:
        ax.set_xticks(range(low, high + 1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def plot_trials(snapshot: JobSnapshot) -> bytes:
    """Primary metric per epoch of every trial (stopped trials dashed, their last point
    marked by state in the trial's colour, the early-termination threshold dotted) and each
    trial's best with the best-so-far line; one legend under both plots."""
    fig = new_figure(9.0, 3.6)
    left, right = fig.subplots(1, 2, width_ratios=(3, 2))
    metric = snapshot.primary_metric
    curves = snapshot.curves()
    colours = palette(max(curves, default=0) + 1)
    last_epoch = 1
    for trial in snapshot.trials:
        values = curves.get(trial.number) or {}
        if not values:
            continue
        epochs = sorted(values)
        last_epoch = max(last_epoch, epochs[-1])
        ys = [values[e] for e in epochs]
        stopped = trial.state in ("pruned", "failed", "canceled", "timeout")
        label = f"trial {trial.number}" + (f" ({trial.state})" if stopped else "")
        colour = colours[trial.number]
        left.plot(epochs, ys, "--" if stopped else "-", color=colour, marker=".", label=label)
        marker = _MARKERS.get(trial.state)
        if marker:
            left.plot(epochs[-1], ys[-1], marker, color=colour, markersize=9, mew=2)
    threshold = termination_threshold(snapshot.policy, curves)
    if threshold:
        cut_x, cut_y = zip(*threshold)
        name = getattr(snapshot.policy, "type", "policy")
        left.plot(cut_x, cut_y, ":", color="black", drawstyle="steps-post", label=f"{name} cut")
    _integer_axis(left, 1, last_epoch)
    left.set_xlabel("epoch")
    left.set_ylabel(metric)
    left.set_title(f"{metric} per epoch")
    _best_so_far(right, snapshot, curves, colours)
    handles, labels = left.get_legend_handles_labels()
    extra_handles, extra_labels = right.get_legend_handles_labels()
    if handles or extra_handles:
        # Under the plots, never over the newest points.
        fig.legend(
            handles + extra_handles,
            labels + extra_labels,
            loc="outside lower center",
            ncols=min(6, len(handles) + len(extra_handles)),
            fontsize=8,
        )
    return to_png(fig)


def _best_so_far(ax: Any, snapshot: JobSnapshot, curves: Mapping, colours: Sequence[str]) -> None:
    numbers, best, running = [], [], None
    for trial in sorted(snapshot.trials, key=lambda t: t.number):
        values = curves.get(trial.number) or {}
        if not values:
            continue
        score = max(values.values())
        running = score if running is None else max(running, score)
        numbers.append(trial.number)
        best.append(running)
        marker = _MARKERS.get(trial.state, "o")
        ax.plot(trial.number, score, marker, color=colours[trial.number], markersize=8, mew=2)
    if numbers:
        ax.plot(numbers, best, "-", color="black", drawstyle="steps-post", label="best so far")
    _integer_axis(ax, 0, max(numbers, default=0))
    ax.set_xlabel("trial")
    ax.set_title(f"best {snapshot.primary_metric} so far")


def plot_class_counts(counts: Mapping[str, int], labels: Sequence[str], title: str) -> bytes:
    """A horizontal bar chart of images (or objects) per class."""
    names = list(labels) or sorted(counts)
    fig = new_figure(4.5, 0.3 * len(names) + 1.0)
    ax = fig.add_subplot(1, 1, 1)
    colours = palette(len(names))
    ax.barh(names, [counts.get(n, 0) for n in names], color=colours)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=8)
    return to_png(fig)


def plot_records(records: Sequence[Any], labels: Sequence[str], *, columns: int = 4) -> bytes:
    """An image grid with each record's labels, boxes or polygons drawn."""
    from matplotlib.patches import Polygon
    from matplotlib.patches import Rectangle

    from automl_nb.data import open_image

    colour_of = dict(zip(labels, palette(len(labels))))
    rows = max(1, -(-len(records) // columns))
    fig = new_figure(2.4 * columns, 2.5 * rows)
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, record in zip(axes.flat, records):
        try:
            image = open_image(record.path)
        except Exception as exc:  # noqa: BLE001 - a broken file is shown, not raised
            ax.set_title(f"cannot open: {type(exc).__name__}", fontsize=7, color="#cf222e")
            continue
        width, height = image.size
        ax.imshow(image)
        if isinstance(record.label, str):
            ax.set_title(record.label, fontsize=8, color=colour_of.get(record.label, "black"))
            continue
        objects = [x for x in record.label if not isinstance(x, str)]
        if len(objects) < len(record.label):  # multi-label
            ax.set_title(", ".join(record.label), fontsize=7)
            continue
        for obj in objects:
            colour = colour_of.get(obj.label, "red")
            x0, y0 = obj.top_x * width, obj.top_y * height
            w, h = (obj.bottom_x - obj.top_x) * width, (obj.bottom_y - obj.top_y) * height
            ax.add_patch(Rectangle((x0, y0), w, h, fill=False, edgecolor=colour, linewidth=1.5))
            for seg in obj.polygon:
                pts = [(seg[i] * width, seg[i + 1] * height) for i in range(0, len(seg) - 1, 2)]
                if len(pts) >= 3:
                    ax.add_patch(Polygon(pts, closed=True, color=colour, alpha=0.35))
            ax.text(
                x0,
                y0,
                obj.label,
                fontsize=6,
                color="white",
                va="bottom",
                bbox={"facecolor": colour, "pad": 0.5, "edgecolor": "none"},
            )
        ax.set_title(f"{len(objects)} object(s)", fontsize=8)
    return to_png(fig)
