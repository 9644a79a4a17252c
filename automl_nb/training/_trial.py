"""One trial end to end: setup, restore, the fit loop, finalize.

Files a trial writes under ``trial_dir``:

* ``params.json`` - the parameters this trial was asked to run (sampled / overridden);
* ``hyperparameters.json`` - every resolved setting (v2 names, :class:`~automl_nb.config.TrialConfig`);
* ``metrics.jsonl`` - one JSON object per epoch (``epoch``, ``train_loss``, ``learning_rate``,
  the primary metric and other scalar validation metrics on evaluation epochs,
  ``images_per_second``, ``seconds``, ``gpu_memory_mb``);
* ``log.txt`` - the trial's log;
* ``checkpoints/`` - ``last.pt``, ``best.pt`` and ``epoch_N.pt`` (see
  :mod:`automl_nb.training._checkpoint`);
* ``model/`` - the model folder of the best epoch (weights, settings, labels, job, metrics,
  plots), written when the trial completes.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import torch

from automl_nb.config import TrialConfig
from automl_nb.config import resolve_trial_config
from automl_nb.config import select_model_name
from automl_nb.tasks import Task
from automl_nb.training import engine
from automl_nb.training._builtin_callbacks import BestModel
from automl_nb.training._builtin_callbacks import Checkpoints
from automl_nb.training._builtin_callbacks import EarlyStop
from automl_nb.training._builtin_callbacks import MetricsLog
from automl_nb.training._builtin_callbacks import json_default
from automl_nb.training._callbacks import CallbackList
from automl_nb.training._callbacks import TrainState
from automl_nb.training._callbacks import TrialPruned
from automl_nb.training._checkpoint import load_checkpoint
from automl_nb.training._checkpoint import load_weights
from automl_nb.training._checkpoint import resolve_run_id
from automl_nb.training._data import build_datasets
from automl_nb.training._data import build_loaders
from automl_nb.training._device import resolve_device
from automl_nb.training._device import seed_everything
from automl_nb.training._model_folder import write_model_folder
from automl_nb.training._optim import EarlyStopping
from automl_nb.training._optim import Schedule
from automl_nb.training._optim import create_classification_loss
from automl_nb.training._optim import create_optimizer
from automl_nb.training._optim import create_scheduler

if TYPE_CHECKING:
    from automl_nb.config import JobSpec

logger = logging.getLogger("automl_nb.training")

PARAMS_FILE = "params.json"
HYPERPARAMETERS_FILE = "hyperparameters.json"
METRICS_FILE = "metrics.jsonl"
LOG_FILE = "log.txt"
CHECKPOINT_DIR = "checkpoints"
MODEL_DIR = "model"

# Small inputs (max_size <= 512) hold few objects; torchvision's proposal budget is sized for
# 800-1333 px images (2000 proposals, 512 sampled RoIs per image) and its RoI heads then cost
# most of a CPU step. For such inputs R-CNN models get a smaller budget; it is recorded in the
# model folder's model_kwargs so inference rebuilds the same model.
SMALL_INPUT_MAX_SIZE = 512
SMALL_INPUT_PROPOSALS: dict[str, int] = {
    "rpn_pre_nms_top_n_train": 600,
    "rpn_post_nms_top_n_train": 300,
    "rpn_pre_nms_top_n_test": 300,
    "rpn_post_nms_top_n_test": 150,
    "box_batch_size_per_image": 128,
}


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


@dataclass
class _Fit:
    """What the fit loop needs, built once by :func:`_setup`."""

    cfg: TrialConfig
    model: torch.nn.Module
    labels: list[str]
    device: torch.device
    train_loader: Any
    valid_loader: Any
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    scaler: torch.amp.GradScaler | None
    loss_fn: torch.nn.Module | None
    generator: torch.Generator
    model_kwargs: dict[str, Any]
    best: BestModel
    builtins: list[Any]


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=json_default) + "\n", encoding="utf-8")


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class _LogToFile:
    """Attach a file handler for ``automl_nb`` loggers for the duration of a trial."""

    def __init__(self, path: Path) -> None:
        self.handler = logging.FileHandler(path, encoding="utf-8")
        self.handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        self.handler.setLevel(logging.INFO)
        self.logger = logging.getLogger("automl_nb")

    def __enter__(self) -> _LogToFile:
        self.previous = self.logger.level
        if self.logger.level == logging.NOTSET or self.logger.level > logging.INFO:
            self.logger.setLevel(logging.INFO)
        self.logger.addHandler(self.handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.previous)
        self.handler.close()


def model_kwargs(cfg: TrialConfig, model_cfg: Any) -> dict[str, Any]:
    """The ``create_model`` keywords a trial's settings imply."""
    if cfg.task.is_detection:
        kwargs: dict[str, Any] = {
            "min_size": cfg.min_size,
            "max_size": cfg.max_size,
            "box_score_thresh": cfg.box_score_threshold,
            "nms_iou_thresh": cfg.nms_iou_threshold,
            "box_detections_per_img": cfg.box_detections_per_image,
        }
        if model_cfg.arch in ("fasterrcnn", "maskrcnn") and cfg.max_size <= SMALL_INPUT_MAX_SIZE:
            kwargs.update(SMALL_INPUT_PROPOSALS)
        return kwargs
    size = model_cfg.input_size
    # Fixed-size models (ViTs) are rebuilt for the crop they train at.
    if model_cfg.fixed_input_size and size and cfg.training_crop_size != size[-1]:
        return {"img_size": cfg.training_crop_size}
    return {}


def incremental_source(spec: JobSpec, cfg: TrialConfig, trial_dir: Path) -> str | None:
    """The weights a trial starts from (``checkpoint_path`` / ``checkpoint_run_id``), if any."""
    if cfg.checkpoint_path:
        path = cfg.checkpoint_path
        return path if os.path.isabs(path) else spec.resolve_path(path)
    if cfg.checkpoint_run_id:
        # <workspace>/<experiment>/<job_id>/trials/<n>: the workspace is 4 levels up.
        parents = trial_dir.resolve().parents
        workspaces = [parents[3]] if len(parents) > 3 else []
        workspaces.append(Path.cwd() / "automl_runs")
        return str(resolve_run_id(cfg.checkpoint_run_id, workspaces))
    return None


def run_trial(
    spec: JobSpec,
    params: Mapping[str, Any] | None,
    trial_dir: str | os.PathLike[str],
    *,
    device: str | torch.device | None = None,
    callbacks: Iterable[Any] = (),
    datasets: tuple[Any, Any] | None = None,
    resume: bool = False,
) -> TrialResult:
    """Train and evaluate one configuration of a job, and write its trial folder.

    Args:
        spec: The :class:`~automl_nb.config.JobSpec`.
        params: This trial's parameters (a sweep's sample or ``--set`` overrides; v1 or v2
            names) over the job's ``training_parameters``. ``None`` or ``{}`` for none.
        trial_dir: The trial folder (created).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; default: the job's ``compute``
            (``local`` = CUDA when available, else CPU).
        callbacks: Objects with some of the hooks of :mod:`automl_nb.training._callbacks`.
        datasets: ``(train, valid)`` :class:`~automl_nb.data.LabeledImages` to use instead of
            reading the job's data.
        resume: Continue from ``trial_dir/checkpoints/last.pt`` when it exists.

    Returns:
        The :class:`TrialResult`.

    Raises:
        ConfigError: Bad hyperparameters (unknown name, bad value, CUDA not available).
        DataError: Bad data.
        ModelError: Unknown model, or pretrained weights that cannot be had.
        NonFiniteLossError: The loss diverged.

    Example:
        >>> from automl_nb.config import load_job  # doctest: +SKIP
        >>> spec = load_job("examples/jobs/demo-classification.yml")  # doctest: +SKIP
        >>> result = run_trial(spec, {"number_of_epochs": 2}, "runs/t0")  # doctest: +SKIP
        >>> result.status, result.primary_metric  # doctest: +SKIP
        ('completed', 'accuracy')
    """
    started = time.perf_counter()
    folder = Path(trial_dir)
    folder.mkdir(parents=True, exist_ok=True)
    hooks = CallbackList(callbacks)
    with _LogToFile(folder / LOG_FILE):
        state: TrainState | None = None
        try:
            params = dict(params or {})
            _write_json(folder / PARAMS_FILE, params)
            fit, state = _setup(spec, params, folder, device, datasets)
            if resume:
                _restore(fit, state)
            status = _fit(fit, state, CallbackList([*fit.builtins, *hooks.callbacks]))
            result = _finalize(spec, fit, state, status, started)
        except BaseException as exc:
            logger.exception("trial failed: %s", exc)
            hooks.call_quietly("on_exception", state, exc)
            raise
        hooks.call("on_train_end", state, result)
        return result


def _setup(
    spec: JobSpec,
    params: dict[str, Any],
    trial_dir: Path,
    device_arg: Any,
    datasets: tuple[Any, Any] | None,
) -> tuple[_Fit, TrainState]:
    """Resolve the settings, read the data, build the model, optimizer and callbacks."""
    from automl_nb.models import create_model
    from automl_nb.models import freeze_layers
    from automl_nb.models import get_model_cfg

    task = Task(spec.task)
    model_cfg = get_model_cfg(select_model_name(spec, params), task)
    cfg = resolve_trial_config(spec, params, model_cfg=model_cfg)
    if cfg.random_seed is None:
        # Record the seed actually used so the trial can be repeated.
        cfg = cfg.replace(random_seed=random.SystemRandom().randrange(2**31))
    device = resolve_device(device_arg, spec.compute)
    _write_json(trial_dir / HYPERPARAMETERS_FILE, cfg.to_dict())
    logger.info(
        "trial %s: %s on %s, settings %s", trial_dir, cfg.model_name, device, cfg.to_dict()
    )
    seed_everything(int(cfg.random_seed or 0))

    if datasets is None:
        from automl_nb.data import load_job_data

        datasets = load_job_data(spec)
    train_images, valid_images = datasets
    labels = list(train_images.labels)
    train_ds, valid_ds = build_datasets(
        train_images, valid_images, cfg=cfg, model_cfg=model_cfg, labels=labels
    )
    generator = torch.Generator()
    train_loader, valid_loader = build_loaders(
        train_ds, valid_ds, cfg=cfg, device=device, generator=generator
    )
    logger.info(
        "data: %d training samples, %d validation images, classes %s",
        len(train_ds),
        len(valid_ds),
        labels,
    )
    kwargs = model_kwargs(cfg, model_cfg)
    model = create_model(
        cfg.model_name,
        task=task,
        num_classes=len(labels),
        pretrained=cfg.advanced_settings.use_pretrained,
        **kwargs,
    )
    source = incremental_source(spec, cfg, trial_dir)
    if source is not None:
        load_weights(model, source)
    frozen = freeze_layers(model, model_cfg, cfg.layers_to_freeze)
    if frozen:
        logger.info(
            "froze %d parameter tensors (layers_to_freeze=%s)", len(frozen), cfg.layers_to_freeze
        )
    model.to(device)

    loss_fn = None
    if task.is_classification:
        loss_fn = create_classification_loss(
            multilabel=task == Task.CLASSIFICATION_MULTILABEL,
            counts=train_ds.class_counts(),
            num_samples=len(train_ds),
            weighted_loss=cfg.weighted_loss,
        ).to(device)
    optimizer = create_optimizer(model, cfg)
    steps_per_epoch = max(1, math.ceil(len(train_loader) / cfg.gradient_accumulation_step))
    schedule = create_scheduler(optimizer, cfg, steps_per_epoch)
    scaler = torch.amp.GradScaler("cuda") if device.type == "cuda" else None
    state = TrainState(
        trial_dir=trial_dir,
        task=task.value,
        primary_metric=task.primary_metric,
        hyperparameters=cfg.to_dict(),
        num_epochs=cfg.number_of_epochs,
        model=model,
        config=cfg,
    )
    ckpt_dir = trial_dir / CHECKPOINT_DIR
    best = BestModel(ckpt_dir / "best.pt")
    fit = _Fit(
        cfg=cfg,
        model=model,
        labels=labels,
        device=device,
        train_loader=train_loader,
        valid_loader=valid_loader,
        optimizer=optimizer,
        schedule=schedule,
        scaler=scaler,
        loss_fn=loss_fn,
        generator=generator,
        model_kwargs=kwargs,
        best=best,
        builtins=[],
    )
    early = EarlyStopping(
        enabled=cfg.early_stopping,
        patience=cfg.early_stopping_patience,
        delay=cfg.early_stopping_delay,
    )
    fit.builtins = [
        MetricsLog(trial_dir / METRICS_FILE),
        best,
        EarlyStop(early),
        Checkpoints(
            ckpt_dir, lambda epoch: _snapshot(fit, state, epoch), cfg.checkpoint_frequency
        ),
    ]
    return fit, state


def _snapshot(fit: _Fit, state: TrainState, epoch: int) -> dict[str, Any]:
    """Everything ``resume`` needs to continue after ``epoch``."""
    return {
        "model": fit.model.state_dict(),
        "optimizer": fit.optimizer.state_dict(),
        "scheduler": fit.schedule.state_dict(),
        "scaler": fit.scaler.state_dict() if fit.scaler is not None else None,
        "callbacks": {c.state_key: c.state_dict() for c in fit.builtins},
        "epoch": epoch,
        "global_step": state.global_step,
        "history": state.history,
        "best_score": state.best_score,
        "best_epoch": state.best_epoch,
        "stopped_early": state.stopped_early,
        "hyperparameters": fit.cfg.to_dict(),
        "labels": fit.labels,
        "model_name": fit.cfg.model_name,
        "task": fit.cfg.task.value,
    }


def _restore(fit: _Fit, state: TrainState) -> None:
    """Continue from ``checkpoints/last.pt`` when it exists."""
    last = state.trial_dir / CHECKPOINT_DIR / "last.pt"
    if not last.is_file():
        return
    ckpt = load_checkpoint(last, map_location=fit.device)
    fit.model.load_state_dict(ckpt["model"])
    fit.optimizer.load_state_dict(ckpt["optimizer"])
    fit.schedule.load_state_dict(ckpt.get("scheduler") or {})
    if fit.scaler is not None and ckpt.get("scaler"):
        fit.scaler.load_state_dict(ckpt["scaler"])
    saved = ckpt.get("callbacks") or {}
    for callback in fit.builtins:
        callback.load_state_dict(saved.get(callback.state_key) or {})
    state.epoch = int(ckpt["epoch"])
    state.global_step = int(ckpt.get("global_step", 0))
    state.history = list(ckpt.get("history") or [])
    state.best_score = ckpt.get("best_score")
    state.best_epoch = ckpt.get("best_epoch")
    state.stopped_early = bool(ckpt.get("stopped_early", False))
    logger.info("resumed from %s at epoch %d", last, state.epoch)


def _fit(fit: _Fit, state: TrainState, hooks: CallbackList) -> str:
    """The epoch loop; returns ``"completed"`` or ``"pruned"``."""
    cfg = fit.cfg
    seed = int(cfg.random_seed or 0)
    amp = fit.scaler is not None
    on_batch = None
    if hooks.has("on_train_batch_end"):

        def on_batch(index: int, total: int, loss: float) -> None:
            hooks.call("on_train_batch_end", state, index, total, loss)

    hooks.call("on_train_start", state)
    try:
        for epoch in range(state.epoch + 1, cfg.number_of_epochs + 1):
            if state.stopped_early:
                break
            # Seeding per epoch makes a resumed trial draw the same shuffles and augmentations.
            seed_everything(seed + epoch)
            fit.generator.manual_seed(seed + epoch)
            if amp:
                torch.cuda.reset_peak_memory_stats(fit.device)
            result = engine.train_one_epoch(
                fit.model,
                fit.train_loader,
                fit.optimizer,
                device=fit.device,
                task=cfg.task,
                loss_fn=fit.loss_fn,
                schedule=fit.schedule,
                scaler=fit.scaler,
                gradient_accumulation_step=cfg.gradient_accumulation_step,
                epoch=epoch,
                on_batch_end=on_batch,
            )
            fit.schedule.step_epoch()
            state.global_step += result.steps
            row = _epoch_row(fit, state, epoch, result)
            state.history.append(row)
            state.epoch = epoch
            logger.info("epoch %d/%d %s", epoch, cfg.number_of_epochs, row)
            hooks.call("on_epoch_end", state, row)
            if state.should_stop:
                if not state.stopped_early:
                    logger.info("stopped by a callback after epoch %d", epoch)
                break
    except TrialPruned:
        logger.info("trial pruned after epoch %d", state.epoch)
        return "pruned"
    return "completed"


def _epoch_row(fit: _Fit, state: TrainState, epoch: int, result: Any) -> dict[str, Any]:
    """The ``metrics.jsonl`` row of an epoch, evaluating when it is an evaluation epoch."""
    cfg = fit.cfg
    row: dict[str, Any] = {
        "epoch": epoch,
        "train_loss": result.loss,
        "learning_rate": result.learning_rate,
    }
    state.last_metrics = None
    if epoch % cfg.evaluation_frequency == 0 or epoch == cfg.number_of_epochs:
        eval_start = time.perf_counter()
        metrics = engine.evaluate(
            fit.model,
            fit.valid_loader,
            task=cfg.task,
            labels=fit.labels,
            device=fit.device,
            metric_type=cfg.validation_metric_type,
            iou_threshold=cfg.validation_iou_threshold,
            mask_threshold=cfg.mask_pixel_score_threshold,
            amp=fit.scaler is not None,
        )
        scalars = {
            k: float(v)
            for k, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        }
        row[state.primary_metric] = _finite(scalars.get(state.primary_metric))
        row.update({k: v for k, v in scalars.items() if k != state.primary_metric})
        row["validation_seconds"] = round(time.perf_counter() - eval_start, 3)
        state.last_metrics = metrics
    row["images_per_second"] = result.images_per_second
    row["seconds"] = result.seconds
    amp = fit.scaler is not None
    row["gpu_memory_mb"] = torch.cuda.max_memory_allocated(fit.device) / 2**20 if amp else 0.0
    if result.loss_components:
        row["loss_components"] = result.loss_components
    return row


def _finalize(
    spec: JobSpec, fit: _Fit, state: TrainState, status: str, started: float
) -> TrialResult:
    """Write the model folder of the best epoch (completed trials) and build the result."""
    model_dir: Path | None = None
    if status == "completed":
        if fit.best.weights is not None:
            fit.model.load_state_dict(fit.best.weights)
        model_dir = write_model_folder(
            state.trial_dir / MODEL_DIR,
            model=fit.model,
            spec=spec,
            cfg=fit.cfg,
            labels=fit.labels,
            metrics=fit.best.metrics,
            history=state.history,
            model_kwargs=fit.model_kwargs,
        )
    result = TrialResult(
        status=status,
        primary_metric=state.primary_metric,
        best_score=state.best_score,
        metrics=fit.best.metrics,
        model_dir=model_dir,
        epochs=state.epoch,
        best_epoch=state.best_epoch,
        trial_dir=state.trial_dir,
        history=state.history,
        hyperparameters=fit.cfg.to_dict(),
        stopped_early=state.stopped_early,
        seconds=time.perf_counter() - started,
    )
    logger.info("trial %s: %s", status, result.to_dict())
    return result
