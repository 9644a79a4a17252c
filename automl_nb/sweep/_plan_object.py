"""The AutoMode :class:`Plan`: what will run, why, and how long it is expected to take.

A plan is plain data: it renders as text (``print(plan)``, the CLI), as HTML in a notebook,
and round-trips through ``plan.json`` in the job folder (``to_dict`` / ``from_dict``), so the
dashboard and the server show the plan a job was started with.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

PLAN_FILE = "plan.json"


@dataclass
class Candidate:
    """One planned configuration.

    Attributes:
        params: The trial's hyperparameters (``model_name``, sizes, batch, lr, epochs).
        epochs: Epochs it trains when not stopped early.
        epoch_seconds: Expected seconds per epoch (training and validation).
        train_seconds_per_image: The probe's training seconds per image.
        measured: False when the cost was extrapolated from another input size.
        role: ``"default"`` (Azure's first trial) or ``"portfolio"``.
    """

    params: dict[str, Any]
    epochs: int
    epoch_seconds: float
    train_seconds_per_image: float
    measured: bool = True
    role: str = "portfolio"

    @property
    def expected_seconds(self) -> float:
        """Expected seconds of the whole trial (all its epochs)."""
        return self.epochs * self.epoch_seconds

    @property
    def size(self) -> int | None:
        """The input size (crop, ``image_size`` or ``min_size``), when pinned."""
        for key in ("training_crop_size", "image_size", "min_size"):
            if self.params.get(key):
                return int(self.params[key])
        return None


@dataclass
class Plan:
    """AutoMode's plan for a job (see :func:`~automl_nb.sweep.plan_automode`).

    Attributes:
        task: The task name.
        candidates: The planned trials, in order; trials beyond them are sampled.
        epochs: Epochs of each portfolio trial.
        n_trials: Trials the plan runs (at most ``max_trials``).
        sampled_trials: Of those, trials sampled (TPE) after the candidates.
        min_resource: First successive-halving rung, in epochs.
        reduction_factor: Successive halving's reduction factor.
        expected_seconds: Expected wall-clock seconds of the sweep.
        budget_seconds: The job's ``timeout_minutes`` in seconds.
        trial_overhead_seconds: Assumed start-up seconds per trial.
        parallel: Trials that run at once with a speed-up (GPUs; 1 on CPU).
        pretrained: Whether trials start from pretrained weights.
        machine: The machine, in words.
        data: The data, in words.
        first_is_default: Whether the first trial is the default model with its defaults.
        first_reason: Why the sweep starts where it does.
        notes: Other decisions worth knowing.
        measured: What the cost probe measured (or read from its cache).
        threads: CPU threads per trial the probe found fastest (``None``: the default).
    """

    task: str
    candidates: list[Candidate]
    epochs: int
    n_trials: int
    sampled_trials: int = 0
    min_resource: int = 1
    reduction_factor: int = 3
    expected_seconds: float = 0.0
    budget_seconds: float = 0.0
    trial_overhead_seconds: float = 0.0
    parallel: int = 1
    pretrained: bool = False
    machine: str = ""
    data: str = ""
    first_is_default: bool = True
    first_reason: str = ""
    notes: list[str] = field(default_factory=list)
    measured: list[str] = field(default_factory=list)
    threads: int | None = None

    # ----------------------------------------------------------------------------- data
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (``plan.json``)."""
        out = asdict(self)
        out["budget_seconds"] = _finite(self.budget_seconds)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """The plan of :meth:`to_dict`."""
        values = dict(data)
        values["candidates"] = [Candidate(**c) for c in values.get("candidates", [])]
        if values.get("budget_seconds") is None:
            values["budget_seconds"] = math.inf
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})

    def save(self, folder: str | Path) -> Path:
        """Write ``<folder>/plan.json``."""
        path = Path(folder) / PLAN_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> Plan | None:
        """The plan in ``<folder>/plan.json``, or ``None``."""
        path = Path(folder) / PLAN_FILE
        if not path.is_file():
            return None
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def search_space(self) -> tuple[dict[str, Any], ...]:
        """Sub-spaces the sampled trials draw from: each portfolio model with an lr range."""
        from automl_nb.config._distributions import Uniform

        spaces: list[dict[str, Any]] = []
        seen: set[str] = set()
        for c in self.candidates:
            model = c.params["model_name"]
            if c.role != "portfolio" or model in seen:
                continue
            seen.add(model)
            sub = dict(c.params)
            lr = float(sub.get("learning_rate") or 0.01)
            sub["learning_rate"] = Uniform(round(lr / 3, 6), round(lr * 2, 6))
            spaces.append(sub)
        return tuple(spaces)

    # ----------------------------------------------------------------------------- text
    def rows(self) -> list[tuple[str, str, str, str, str, str]]:
        """``(trial, model, size, batch, epochs, expected time)`` per planned trial."""
        out = []
        for i, c in enumerate(self.candidates):
            batch = c.params.get("training_batch_size", "default")
            size = c.size or "default"
            lr = c.params.get("learning_rate")
            model = c.params["model_name"] + (" (defaults)" if c.role == "default" else "")
            if lr is not None:
                model += f", lr {lr:g}"
            out.append(
                (
                    str(i),
                    model,
                    f"{size}",
                    f"{batch}",
                    str(c.epochs),
                    f"{duration(c.expected_seconds)} ({c.epoch_seconds:.1f} s/epoch"
                    + ("" if c.measured else ", extrapolated")
                    + ")",
                )
            )
        return out

    def headline(self) -> str:
        """The plan in one line: trials, expected time, budget, weights."""
        weights = "pretrained weights" if self.pretrained else "from scratch"
        return (
            f"AutoMode plan: {self.n_trials} trial(s) in ~{duration(self.expected_seconds)} "
            f"of a {duration(self.budget_seconds)} budget ({weights})"
        )

    def text(self) -> str:
        """The plan as plain text (what ``automl-vision plan`` prints)."""
        lines = [
            self.headline(),
            f"  machine: {self.machine}",
            f"  data: {self.data}",
            f"  start: {self.first_reason}",
            "  schedule: successive halving over epochs (Optuna), first rung at "
            f"{self.min_resource} epoch(s), reduction factor {self.reduction_factor}; each "
            f"trial ends by the job's deadline with its best evaluated model",
        ]
        header = ("trial", "model", "size", "batch", "epochs", "expected time (full run)")
        rows = [header, *self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        for row in rows:
            lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)))
        if self.sampled_trials:
            lines.append(
                f"  + {self.sampled_trials} trial(s) sampled (TPE) over the portfolio's "
                "models and learning rates"
            )
        lines.append(f"  trial start-up: ~{self.trial_overhead_seconds:.0f} s each")
        if self.threads:
            lines.append(f"  CPU threads per trial: {self.threads}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        if self.measured:
            lines.append("  measured (cost probe, seconds per training image):")
            lines.extend(f"    {m}" for m in self.measured)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.text())}</pre>"


def duration(seconds: float | None) -> str:
    """``42 s``, ``4.5 min``, ``2.0 h`` or ``unbounded``."""
    if seconds is None or not math.isfinite(seconds):
        return "unbounded"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
