"""Setting a trial up: its settings, data, model, optimizer and callbacks, and resuming it."""

from __future__ import annotations

import json
import logging
import math
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import torch

from automl_nb.config import TrialConfig
from automl_nb.config import resolve_trial_config
from automl_nb.config import select_model_name
from automl_nb.data._cache import prepare_image_cache
from automl_nb.tasks import Task
from automl_nb.training._builtin_callbacks import PROGRESS_FILE
from automl_nb.training._builtin_callbacks import STOP_FILE
from automl_nb.training._builtin_callbacks import BestModel
from automl_nb.training._builtin_callbacks import Checkpoints
from automl_nb.training._builtin_callbacks import EarlyStop
from automl_nb.training._builtin_callbacks import MetricsLog
from automl_nb.training._builtin_callbacks import Progress
from automl_nb.training._builtin_callbacks import StopRequest
from automl_nb.training._builtin_callbacks import TimeBudget
from automl_nb.training._builtin_callbacks import json_default
from automl_nb.training._callbacks import TrainState
from automl_nb.training._checkpoint import load_checkpoint
from automl_nb.training._checkpoint import load_weights
from automl_nb.training._checkpoint import resolve_run_id
from automl_nb.training._data import build_datasets
from automl_nb.training._data import build_loaders
from automl_nb.training._data import build_train_eval_loader
from automl_nb.training._device import resolve_device
from automl_nb.training._device import seed_everything
from automl_nb.training._distributed import is_rank
from automl_nb.training._distributed import make_distributed
from automl_nb.training._distributed import shard_loader
from automl_nb.training._ema import ModelEma
from automl_nb.training._optim import EarlyStopping
from automl_nb.training._optim import Schedule
from automl_nb.training._optim import create_classification_loss
from automl_nb.training._optim import create_optimizer
from automl_nb.training._optim import create_scheduler
from automl_nb.training._precision import autocast_dtype
from automl_nb.training._precision import precision_name

if TYPE_CHECKING:
    from automl_nb.config import JobSpec

logger = logging.getLogger("automl_nb.training")

HYPERPARAMETERS_FILE = "hyperparameters.json"
METRICS_FILE = "metrics.jsonl"
CHECKPOINT_DIR = "checkpoints"

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
class Fit:
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
    train_eval_loader: Any = None
    # The model the training step calls (DistributedDataParallel in a multi-process trial).
    train_model: Any = None
    # The weight average (advanced_settings.model_ema), evaluated and saved instead of model.
    ema: ModelEma | None = None
    # The autocast dtype (advanced_settings.precision); None trains in fp32.
    precision: torch.dtype | None = None

    @property
    def eval_model(self) -> torch.nn.Module:
        """The model evaluated, kept as the best one and published."""
        return self.model if self.ema is None else self.ema.module


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=json_default) + "\n", encoding="utf-8")


def model_kwargs(cfg: TrialConfig, model_cfg: Any) -> dict[str, Any]:
    """The ``create_model`` keywords a trial's settings imply."""
    if cfg.is_yolo:  # yolov5 letterboxes to its own size
        return {
            "img_size": cfg.image_size,
            "model_size": cfg.model_size,
            "multi_scale": cfg.multi_scale,
            "box_score_thresh": cfg.box_score_threshold,
            "nms_iou_thresh": cfg.nms_iou_threshold,
            "box_detections_per_img": cfg.box_detections_per_image,
        }
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


def _resolve(
    spec: JobSpec, params: dict[str, Any], trial_dir: Path, device_arg: Any
) -> tuple[TrialConfig, Any, torch.device]:
    """The trial's settings (with the seed it will use), its model's cfg and its device."""
    from automl_nb.models import get_model_cfg

    model_cfg = get_model_cfg(select_model_name(spec, params), Task(spec.task))
    cfg = resolve_trial_config(spec, params, model_cfg=model_cfg)
    if cfg.random_seed is None:
        # Record the seed actually used so the trial can be repeated.
        cfg = cfg.replace(random_seed=random.SystemRandom().randrange(2**31))
    device = resolve_device(device_arg, spec.compute)
    _write_json(trial_dir / HYPERPARAMETERS_FILE, cfg.to_dict())
    logger.info(
        "trial %s: %s on %s, settings %s", trial_dir, cfg.model_name, device, cfg.to_dict()
    )
    return cfg, model_cfg, device


def _build_model(
    spec: JobSpec, cfg: TrialConfig, model_cfg: Any, num_classes: int, trial_dir: Path
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The model, with earlier weights loaded and layers frozen; and its build keywords."""
    from automl_nb.models import create_model
    from automl_nb.models import freeze_layers

    kwargs = model_kwargs(cfg, model_cfg)
    model = create_model(
        cfg.model_name,
        task=cfg.task,
        num_classes=num_classes,
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
    return model, kwargs


def _classification_loss(
    cfg: TrialConfig, train_ds: Any, device: torch.device
) -> torch.nn.Module | None:
    """The classifier's (maybe class-weighted) loss; detectors compute their own."""
    if not cfg.task.is_classification:
        return None
    return create_classification_loss(
        multilabel=cfg.task == Task.CLASSIFICATION_MULTILABEL,
        counts=train_ds.class_counts(),
        num_samples=len(train_ds),
        weighted_loss=cfg.weighted_loss,
    ).to(device)


def setup_trial(
    spec: JobSpec,
    params: dict[str, Any],
    trial_dir: Path,
    device_arg: Any,
    datasets: tuple[Any, Any] | None,
    time_budget: float | None = None,
) -> tuple[Fit, TrainState]:
    """Resolve the settings, read the data, build the model, optimizer and callbacks."""
    cfg, model_cfg, device = _resolve(spec, params, trial_dir, device_arg)
    seed_everything(int(cfg.random_seed or 0))
    if datasets is None:
        from automl_nb.data import load_job_data

        datasets = load_job_data(spec)
    train_images, valid_images = datasets
    stream = cfg.advanced_settings.stream_image_files
    prepare_image_cache(train_images, valid_images, stream=stream)
    labels = list(train_images.labels)
    train_ds, valid_ds = build_datasets(
        train_images, valid_images, cfg=cfg, model_cfg=model_cfg, labels=labels
    )
    generator = torch.Generator()
    train_loader, valid_loader = build_loaders(
        train_ds, valid_ds, cfg=cfg, device=device, generator=generator
    )
    if is_rank():  # before the schedule counts its steps per epoch
        train_loader = shard_loader(train_loader, int(cfg.random_seed or 0))
    logger.info(
        "data: %d training samples, %d validation images, classes %s",
        len(train_ds),
        len(valid_ds),
        labels,
    )
    model, kwargs = _build_model(spec, cfg, model_cfg, len(labels), trial_dir)
    model.to(device)
    loss_fn = _classification_loss(cfg, train_ds, device)
    optimizer = create_optimizer(model, cfg)
    steps_per_epoch = max(1, math.ceil(len(train_loader) / cfg.gradient_accumulation_step))
    ckpt_dir = trial_dir / CHECKPOINT_DIR
    precision = autocast_dtype(
        cfg.advanced_settings.precision, device, task=cfg.task, family=model_cfg.family
    )
    logger.info("precision: %s on %s", precision_name(precision), device)
    fit = Fit(
        cfg=cfg,
        model=model,
        labels=labels,
        device=device,
        train_loader=train_loader,
        valid_loader=valid_loader,
        optimizer=optimizer,
        schedule=create_scheduler(optimizer, cfg, steps_per_epoch),
        scaler=torch.amp.GradScaler("cuda") if precision == torch.float16 else None,
        loss_fn=loss_fn,
        generator=generator,
        model_kwargs=kwargs,
        best=BestModel(ckpt_dir / "best.pt"),
        builtins=[],
        ema=ModelEma(model, cfg.advanced_settings.model_ema_decay)
        if cfg.advanced_settings.model_ema
        else None,
        precision=precision,
    )
    if cfg.log_training_metrics == "enable":
        fit.train_eval_loader = build_train_eval_loader(
            train_images, cfg=cfg, model_cfg=model_cfg, labels=labels, device=device
        )
    state = TrainState(
        trial_dir=trial_dir,
        task=cfg.task.value,
        primary_metric=cfg.task.primary_metric,
        hyperparameters=cfg.to_dict(),
        num_epochs=cfg.number_of_epochs,
        model=fit.eval_model,
        config=cfg,
    )
    early = EarlyStopping(
        enabled=cfg.early_stopping,
        patience=cfg.early_stopping_patience,
        delay=cfg.early_stopping_delay,
    )
    # The best weights are taken before the row is written: a trial stopped as soon as an
    # epoch shows in metrics.jsonl still keeps that epoch's model.
    fit.builtins = [
        fit.best,
        MetricsLog(trial_dir / METRICS_FILE),
        EarlyStop(early),
        # Ranks keep the planned schedule: their learning rates must stay equal.
        TimeBudget(time_budget, None if is_rank() else fit.schedule.fit_epochs),
        Checkpoints(ckpt_dir, lambda epoch: snapshot(fit, state, epoch), cfg.checkpoint_frequency),
        Progress(trial_dir / PROGRESS_FILE, cfg.training_batch_size),
        # Last: an epoch that ends as a stop is asked for is still logged and checkpointed.
        StopRequest(trial_dir / STOP_FILE),
    ]
    if is_rank():
        make_distributed(fit)
    return fit, state


def snapshot(fit: Fit, state: TrainState, epoch: int) -> dict[str, Any]:
    """Everything ``resume`` needs to continue after ``epoch``."""
    return {
        "model": fit.model.state_dict(),
        "ema": fit.ema.state_dict() if fit.ema is not None else None,
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


def restore(fit: Fit, state: TrainState) -> None:
    """Continue from ``checkpoints/last.pt`` when it exists."""
    last = state.trial_dir / CHECKPOINT_DIR / "last.pt"
    if not last.is_file():
        return
    ckpt = load_checkpoint(last, map_location=fit.device)
    fit.model.load_state_dict(ckpt["model"])
    if fit.ema is not None:
        # A checkpoint from before the average was on starts it from the trained weights.
        fit.ema.load_state_dict(ckpt.get("ema") or {"module": ckpt["model"]})
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
