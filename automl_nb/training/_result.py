"""What a trial returns: :class:`TrialResult`."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any


@dataclass
class TrialResult:
    """The outcome of :func:`run_trial`.

    Attributes:
        status: ``"completed"`` or ``"pruned"`` (failures raise).
        primary_metric: The metric maximised (``accuracy``, ``iou``, ``mean_average_precision``).
        best_score: Best value of the primary metric over the evaluations (``None`` if none).
        metrics: Full validation metrics of the best epoch (what ``model/metrics.json`` holds).
        model_dir: The written model folder (``None`` for a pruned trial).
        epochs: Epochs trained in total.
        best_epoch: The epoch of ``best_score``.
        trial_dir: The trial folder.
        history: The ``metrics.jsonl`` rows.
        hyperparameters: The resolved settings (``TrialConfig.to_dict()``).
        stopped_early: True when early stopping ended the trial.
        seconds: Wall time of this call.
    """

    status: str
    primary_metric: str
    best_score: float | None
    metrics: dict[str, Any]
    model_dir: Path | None
    epochs: int
    best_epoch: int | None = None
    trial_dir: Path | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    stopped_early: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary (no history or per-class metrics)."""
        return {
            "status": self.status,
            "primary_metric": self.primary_metric,
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "epochs": self.epochs,
            "model_dir": str(self.model_dir) if self.model_dir else None,
            "trial_dir": str(self.trial_dir) if self.trial_dir else None,
            "stopped_early": self.stopped_early,
            "seconds": round(self.seconds, 3),
        }
