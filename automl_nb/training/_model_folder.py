"""The model folder a finished trial writes: weights, settings, labels, job, metrics, plots."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import torch

if TYPE_CHECKING:
    from automl_nb.config import JobSpec
    from automl_nb.config import TrialConfig

logger = logging.getLogger("automl_nb.training")


def write_model_folder(
    model_dir: Path,
    *,
    model: torch.nn.Module,
    spec: JobSpec,
    cfg: TrialConfig,
    labels: list[str],
    metrics: dict[str, Any],
    history: list[dict[str, Any]],
    model_kwargs: dict[str, Any],
) -> Path:
    """Write the loadable model folder of a trial (see :func:`automl_nb.inference.load_model`)."""
    from automl_nb.config import dump_job
    from automl_nb.inference import save_model_dir

    save_model_dir(
        model_dir,
        model=model,
        model_name=cfg.model_name,
        task=cfg.task,
        labels=labels,
        hyperparameters=cfg.to_dict(),
        job_yaml=dump_job(spec),
        metrics=metrics,
        model_kwargs=model_kwargs or None,
    )
    write_plots(model_dir / "plots", labels=labels, metrics=metrics, history=history)
    return model_dir


def write_plots(
    folder: Path, *, labels: list[str], metrics: dict[str, Any], history: list[dict]
) -> None:
    """Per-epoch curves, and the confusion matrix and PR curves when the metrics have them."""
    from automl_nb.metrics import plot_confusion_matrix
    from automl_nb.metrics import plot_epoch_curves
    from automl_nb.metrics import plot_pr_curves

    folder.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[str, Any]] = [("epoch_curves", lambda p: plot_epoch_curves(history, p))]
    if metrics.get("confusion_matrix"):
        jobs.append(("confusion_matrix", lambda p: plot_confusion_matrix(metrics, labels, p)))
    if metrics.get("pr_curves"):
        jobs.append(("pr_curves", lambda p: plot_pr_curves(metrics, p)))
    for name, plot in jobs:
        try:
            plot(folder / f"{name}.png")
        except Exception:  # noqa: BLE001 - a failed plot must not fail a trained trial
            logger.warning("could not draw %s.png", name, exc_info=True)
