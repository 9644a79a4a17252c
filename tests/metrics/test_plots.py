"""The plot helpers write real PNG files and never touch pyplot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from automl_nb.metrics import classification_metrics
from automl_nb.metrics import plot_confusion_matrix
from automl_nb.metrics import plot_epoch_curves
from automl_nb.metrics import plot_pr_curves

REPO = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"
LABELS = ["can", "carton", "milk_bottle", "water_bottle"]


def _metrics(multilabel: bool) -> dict:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=30)
    targets = rng.integers(0, 2, size=(30, 4)) if multilabel else rng.integers(0, 4, size=30)
    return classification_metrics(probs, targets, LABELS, multilabel=multilabel)


def test_all_plots_write_png(tmp_path) -> None:
    history = [
        {"epoch": 1, "train_loss": 1.2, "learning_rate": 0.01, "accuracy": 0.3, "status": "ok"},
        {"epoch": 2, "train_loss": 0.8, "learning_rate": 0.005, "accuracy": None},
        {"epoch": 3, "train_loss": 0.5, "learning_rate": 0.001, "accuracy": 0.7},
    ]
    metrics = _metrics(multilabel=False)
    paths = [
        plot_epoch_curves(history, tmp_path / "plots" / "epoch_curves.png"),
        plot_confusion_matrix(metrics, LABELS, tmp_path / "plots" / "confusion_matrix.png"),
        plot_pr_curves(metrics, tmp_path / "plots" / "pr_curves.png"),
    ]
    for path in paths:
        assert path is not None and path.read_bytes()[:8] == PNG
        assert path.stat().st_size > 5000


def test_plots_do_not_import_pyplot(tmp_path) -> None:
    # torchmetrics itself imports pyplot, so check in a fresh interpreter without it.
    code = (
        "import sys\n"
        "from automl_nb.metrics import plot_confusion_matrix, plot_epoch_curves\n"
        f"plot_confusion_matrix({{'confusion_matrix': [[2, 1], [0, 3]]}}, ['a', 'b'],"
        f" {str(tmp_path / 'cm.png')!r})\n"
        f"plot_epoch_curves([{{'epoch': 1, 'loss': 1.0}}], {str(tmp_path / 'ep.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, timeout=120)
    assert (tmp_path / "cm.png").read_bytes()[:8] == PNG


def test_missing_data_writes_nothing(tmp_path) -> None:
    multilabel = _metrics(multilabel=True)
    assert plot_confusion_matrix(multilabel, LABELS, tmp_path / "cm.png") is None
    assert plot_pr_curves({"pr_curves": {}}, tmp_path / "pr.png") is None
    assert plot_epoch_curves([{"epoch": 1}], tmp_path / "ep.png") is None
    assert not list(tmp_path.iterdir())
    assert plot_pr_curves(multilabel, tmp_path / "pr.png") is not None
