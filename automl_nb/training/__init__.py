"""Training: one trial end to end for the four tasks.

:func:`run_trial` trains and evaluates one configuration of a job and writes its trial folder
(``params.json``, ``metrics.jsonl``, ``log.txt``, ``checkpoints/``, ``model/``). The loop itself
is :mod:`automl_nb.training.engine` (``train_one_epoch``, ``evaluate``), shared with the
benchmarks. Importing this package imports torch.
"""

from __future__ import annotations

from automl_nb.training._callbacks import CallbackList
from automl_nb.training._callbacks import TrainState
from automl_nb.training._callbacks import TrialPruned
from automl_nb.training._checkpoint import find_weights_file
from automl_nb.training._checkpoint import load_checkpoint
from automl_nb.training._checkpoint import load_weights
from automl_nb.training._checkpoint import save_checkpoint
from automl_nb.training._device import resolve_device
from automl_nb.training._device import seed_everything
from automl_nb.training._optim import EarlyStopping
from automl_nb.training._optim import Schedule
from automl_nb.training._optim import class_weights
from automl_nb.training._optim import create_classification_loss
from automl_nb.training._optim import create_optimizer
from automl_nb.training._optim import create_scheduler
from automl_nb.training._result import TrialResult
from automl_nb.training._trial import run_trial
from automl_nb.training.engine import EpochMetrics
from automl_nb.training.engine import NonFiniteLossError
from automl_nb.training.engine import evaluate
from automl_nb.training.engine import train_one_epoch

__all__ = [
    "CallbackList",
    "EarlyStopping",
    "EpochMetrics",
    "NonFiniteLossError",
    "Schedule",
    "TrainState",
    "TrialPruned",
    "TrialResult",
    "class_weights",
    "create_classification_loss",
    "create_optimizer",
    "create_scheduler",
    "evaluate",
    "find_weights_file",
    "load_checkpoint",
    "load_weights",
    "resolve_device",
    "run_trial",
    "save_checkpoint",
    "seed_everything",
    "train_one_epoch",
]
