"""One trial end to end: data, model, training loop, checkpoints and the model folder.

Files a trial writes under ``trial_dir``:

* ``params.json`` - the parameters this trial was asked to run (sampled / overridden);
* ``hyperparameters.json`` - every resolved hyperparameter (v2 names);
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
from typing import Any

import torch

from automl_nb.tasks import Task
from automl_nb.tasks import as_task
from automl_nb.training import engine
from automl_nb.training._callbacks import CallbackList
from automl_nb.training._callbacks import TrainState
from automl_nb.training._callbacks import TrialPruned
from automl_nb.training._checkpoint import load_checkpoint
from automl_nb.training._checkpoint import load_weights
from automl_nb.training._checkpoint import resolve_run_id
from automl_nb.training._checkpoint import save_checkpoint
from automl_nb.training._data import build_datasets
from automl_nb.training._data import build_loaders
from automl_nb.training._device import resolve_device
from automl_nb.training._device import seed_everything
from automl_nb.training._hyperparameters import resolve_hyperparameters
from automl_nb.training._hyperparameters import select_model_name
from automl_nb.training._optim import EarlyStopping
from automl_nb.training._optim import create_classification_loss
from automl_nb.training._optim import create_optimizer
from automl_nb.training._optim import create_scheduler

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
        hyperparameters: The resolved hyperparameters.
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


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (tuple, set)):
        return list(value)
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=_json_default) + "\n", encoding="utf-8")


def _scalars(metrics: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        out[key] = float(value)
    return out


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


def _model_kwargs(task: Task, hp: dict[str, Any], model_cfg: Any) -> dict[str, Any]:
    """The ``create_model`` keywords this trial's hyperparameters imply."""
    if getattr(model_cfg, "family", None) == "yolo":  # yolov5: its own size settings
        return {
            "img_size": hp.get("image_size"),
            "model_size": hp.get("model_size"),
            "multi_scale": hp.get("multi_scale"),
            "box_score_thresh": hp.get("box_score_threshold"),
            "nms_iou_thresh": hp.get("nms_iou_threshold"),
            "box_detections_per_img": hp.get("box_detections_per_image"),
        }
    if task.is_detection:
        kwargs = {
            "min_size": hp.get("min_size"),
            "max_size": hp.get("max_size"),
            "box_score_thresh": hp.get("box_score_threshold"),
            "nms_iou_thresh": hp.get("nms_iou_threshold"),
            "box_detections_per_img": hp.get("box_detections_per_image"),
        }
        if (
            getattr(model_cfg, "arch", "") in ("fasterrcnn", "maskrcnn")
            and int(hp.get("max_size") or 1333) <= SMALL_INPUT_MAX_SIZE
        ):
            kwargs.update(SMALL_INPUT_PROPOSALS)
        return kwargs
    kwargs: dict[str, Any] = {}
    crop = int(hp["training_crop_size"])
    size = getattr(model_cfg, "input_size", None)
    # Fixed-size models (ViTs) are rebuilt for the crop they train at.
    if getattr(model_cfg, "fixed_input_size", False) and size and crop != size[-1]:
        kwargs["img_size"] = crop
    return kwargs


def _incremental_source(spec: Any, hp: dict[str, Any], trial_dir: Path) -> str | None:
    path = hp.get("checkpoint_path")
    if path:
        resolver = getattr(spec, "resolve_path", None)
        return str(resolver(path)) if resolver and not os.path.isabs(path) else str(path)
    run_id = hp.get("checkpoint_run_id")
    if run_id:
        # <workspace>/<experiment>/<job_id>/trials/<n>: the workspace is 4 levels up.
        parents = trial_dir.resolve().parents
        workspaces = [parents[3]] if len(parents) > 3 else []
        workspaces.append(Path.cwd() / "automl_runs")
        return str(resolve_run_id(str(run_id), workspaces))
    return None


def _write_model_folder(
    *,
    model_dir: Path,
    model: torch.nn.Module,
    spec: Any,
    task: Task,
    labels: list[str],
    hp: dict[str, Any],
    metrics: dict[str, Any],
    history: list[dict[str, Any]],
    model_kwargs: dict[str, Any],
) -> Path:
    from automl_nb.inference import save_model_dir

    job_yaml: Any = spec
    try:
        from automl_nb.config import dump_job

        job_yaml = dump_job(spec)
    except Exception:  # noqa: BLE001 - the folder is still useful without the job text
        logger.warning("could not write the job spec into the model folder", exc_info=True)
    save_model_dir(
        model_dir,
        model=model,
        model_name=hp["model_name"],
        task=task,
        labels=labels,
        hyperparameters=hp,
        job_yaml=job_yaml,
        metrics=metrics,
        model_kwargs=model_kwargs or None,
    )
    _write_plots(model_dir / "plots", task=task, labels=labels, metrics=metrics, history=history)
    return model_dir


def _write_plots(
    folder: Path, *, task: Task, labels: list[str], metrics: dict[str, Any], history: list[dict]
) -> None:
    try:
        from automl_nb.metrics import plot_confusion_matrix
        from automl_nb.metrics import plot_epoch_curves
        from automl_nb.metrics import plot_pr_curves
    except ImportError:  # pragma: no cover - metrics ships with the package
        logger.warning("automl_nb.metrics plots are not available; no plots written")
        return
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


def run_trial(
    spec: Any,
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
    trial_dir = Path(trial_dir)
    trial_dir.mkdir(parents=True, exist_ok=True)
    hooks = CallbackList(callbacks)
    with _LogToFile(trial_dir / LOG_FILE):
        state: TrainState | None = None
        try:
            return _run(spec, params, trial_dir, device, hooks, datasets, resume, started)
        except BaseException as exc:
            logger.exception("trial failed: %s", exc)
            state = getattr(exc, "_automl_state", None)
            hooks.call_quietly("on_exception", state, exc)
            raise


def _run(
    spec: Any,
    params: Mapping[str, Any] | None,
    trial_dir: Path,
    device_arg: Any,
    hooks: CallbackList,
    datasets: tuple[Any, Any] | None,
    resume: bool,
    started: float,
) -> TrialResult:
    from automl_nb.models import create_model
    from automl_nb.models import freeze_layers
    from automl_nb.models import get_model_cfg

    task = as_task(spec.task)
    primary = task.primary_metric
    params = dict(params or {})
    _write_json(trial_dir / PARAMS_FILE, params)

    model_name = select_model_name(spec, params)
    model_cfg = get_model_cfg(model_name, task)
    hp = resolve_hyperparameters(spec, params, model_cfg)
    if hp.get("random_seed") is None:
        # Record the seed actually used so the trial can be repeated.
        hp["random_seed"] = random.SystemRandom().randrange(2**31)
    seed = int(hp["random_seed"])
    device = resolve_device(device_arg, getattr(spec, "compute", None))
    _write_json(trial_dir / HYPERPARAMETERS_FILE, hp)
    logger.info("trial %s: %s on %s, hyperparameters %s", trial_dir, model_name, device, hp)
    seed_everything(seed)

    if datasets is None:
        from automl_nb.data import load_job_data

        datasets = load_job_data(spec)
    train_images, valid_images = datasets
    labels = list(train_images.labels)
    train_ds, valid_ds = build_datasets(
        train_images, valid_images, task=task, hp=hp, model_cfg=model_cfg, labels=labels
    )
    generator = torch.Generator()
    train_loader, valid_loader = build_loaders(
        train_ds, valid_ds, task=task, hp=hp, device=device, generator=generator
    )
    logger.info(
        "data: %d training samples, %d validation images, classes %s",
        len(train_ds),
        len(valid_ds),
        labels,
    )

    model_kwargs = _model_kwargs(task, hp, model_cfg)
    pretrained = bool(hp["advanced_settings"].get("use_pretrained", True))
    model = create_model(
        model_name, task=task, num_classes=len(labels), pretrained=pretrained, **model_kwargs
    )
    source = _incremental_source(spec, hp, trial_dir)
    if source is not None:
        load_weights(model, source)
    frozen = freeze_layers(model, model_cfg, int(hp.get("layers_to_freeze") or 0))
    if frozen:
        logger.info(
            "froze %d parameter tensors (layers_to_freeze=%s)", len(frozen), hp["layers_to_freeze"]
        )
    model.to(device)

    loss_fn = None
    if task.is_classification:
        loss_fn = create_classification_loss(
            multilabel=task == Task.CLASSIFICATION_MULTILABEL,
            counts=train_ds.class_counts(),
            num_samples=len(train_ds),
            weighted_loss=int(hp.get("weighted_loss") or 0),
        ).to(device)
    optimizer = create_optimizer(model, hp)
    accumulate = max(1, int(hp.get("gradient_accumulation_step") or 1))
    steps_per_epoch = max(1, math.ceil(len(train_loader) / accumulate))
    schedule = create_scheduler(optimizer, hp, steps_per_epoch)
    amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda") if amp else None
    early = EarlyStopping(
        enabled=bool(hp.get("early_stopping", True)),
        patience=int(hp.get("early_stopping_patience") or 5),
        delay=int(hp.get("early_stopping_delay") or 0),
    )
    num_epochs = int(hp["number_of_epochs"])
    eval_every = max(1, int(hp.get("evaluation_frequency") or 1))
    ckpt_every = hp.get("checkpoint_frequency")
    ckpt_dir = trial_dir / CHECKPOINT_DIR

    state = TrainState(
        trial_dir=trial_dir,
        task=task.value,
        primary_metric=primary,
        hyperparameters=hp,
        num_epochs=num_epochs,
        model=model,
    )
    best_metrics: dict[str, Any] = {}
    best_state: dict[str, torch.Tensor] | None = None
    stopped_early = False
    start_epoch = 1
    last_path = ckpt_dir / "last.pt"
    if resume and last_path.is_file():
        ckpt = load_checkpoint(last_path, map_location=device)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        schedule.load_state_dict(ckpt.get("scheduler") or {})
        if scaler is not None and ckpt.get("scaler"):
            scaler.load_state_dict(ckpt["scaler"])
        early.load_state_dict(ckpt.get("early_stopping") or {})
        state.epoch = int(ckpt["epoch"])
        state.global_step = int(ckpt.get("global_step", 0))
        state.history = list(ckpt.get("history") or [])
        state.best_score = ckpt.get("best_score")
        state.best_epoch = ckpt.get("best_epoch")
        stopped_early = bool(ckpt.get("stopped_early", False))
        best_path = ckpt_dir / "best.pt"
        if best_path.is_file():
            best = load_checkpoint(best_path)
            best_state = best["state_dict"]
            best_metrics = dict(best.get("metrics") or {})
        start_epoch = state.epoch + 1
        logger.info("resumed from %s at epoch %d", last_path, state.epoch)
    # metrics.jsonl always mirrors the history (after a resume, epochs past the checkpoint go).
    metrics_path = trial_dir / METRICS_FILE
    metrics_path.write_text(
        "".join(json.dumps(row, default=_json_default) + "\n" for row in state.history),
        encoding="utf-8",
    )

    def checkpoint_state(epoch: int) -> dict[str, Any]:
        return {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": schedule.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else None,
            "early_stopping": early.state_dict(),
            "epoch": epoch,
            "global_step": state.global_step,
            "history": state.history,
            "best_score": state.best_score,
            "best_epoch": state.best_epoch,
            "stopped_early": stopped_early,
            "hyperparameters": hp,
            "labels": labels,
            "model_name": model_name,
            "task": task.value,
        }

    on_batch = None
    if hooks.has("on_train_batch_end"):

        def on_batch(index: int, total: int, loss: float) -> None:
            hooks.call("on_train_batch_end", state, index, total, loss)

    hooks.call("on_train_start", state)
    status = "completed"
    try:
        for epoch in range(start_epoch, num_epochs + 1):
            if stopped_early:
                break
            # Seeding per epoch makes a resumed trial draw the same shuffles and augmentations.
            seed_everything(seed + epoch)
            generator.manual_seed(seed + epoch)
            if hasattr(train_ds, "set_epoch"):  # yolov5: mosaic off for the last epochs
                train_ds.set_epoch(epoch, num_epochs)
            if amp:
                torch.cuda.reset_peak_memory_stats(device)
            result = engine.train_one_epoch(
                model,
                train_loader,
                optimizer,
                device=device,
                task=task,
                loss_fn=loss_fn,
                schedule=schedule,
                scaler=scaler,
                gradient_accumulation_step=accumulate,
                epoch=epoch,
                on_batch_end=on_batch,
            )
            schedule.step_epoch()
            state.global_step += result.steps
            row: dict[str, Any] = {
                "epoch": epoch,
                "train_loss": result.loss,
                "learning_rate": result.learning_rate,
            }
            evaluated = epoch % eval_every == 0 or epoch == num_epochs
            improved = False
            if evaluated:
                eval_start = time.perf_counter()
                metrics = engine.evaluate(
                    model,
                    valid_loader,
                    task=task,
                    labels=labels,
                    device=device,
                    metric_type=str(hp.get("validation_metric_type") or "voc"),
                    iou_threshold=float(hp.get("validation_iou_threshold") or 0.5),
                    mask_threshold=float(hp.get("mask_pixel_score_threshold") or 0.5),
                    amp=amp,
                )
                scalars = _scalars(metrics)
                score = _finite(scalars.get(primary))
                row[primary] = score
                row.update({k: v for k, v in scalars.items() if k != primary})
                row["validation_seconds"] = round(time.perf_counter() - eval_start, 3)
                if score is not None and (state.best_score is None or score > state.best_score):
                    improved = True
                elif state.best_score is None and best_state is None:
                    improved = True  # no usable metric: keep the latest model
                if improved:
                    state.best_score = score if score is not None else state.best_score
                    state.best_epoch = epoch
                    best_metrics = metrics
                    best_state = {
                        k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()
                    }
                    save_checkpoint(
                        ckpt_dir / "best.pt",
                        {
                            "state_dict": best_state,
                            "epoch": epoch,
                            "score": score,
                            "metrics": metrics,
                        },
                    )
                if score is not None and early.update(score):
                    stopped_early = True
                    logger.info(
                        "early stopping at epoch %d: no improvement of %s in %d evaluations",
                        epoch,
                        primary,
                        early.patience,
                    )
            row["images_per_second"] = result.images_per_second
            row["seconds"] = result.seconds
            row["gpu_memory_mb"] = torch.cuda.max_memory_allocated(device) / 2**20 if amp else 0.0
            if result.loss_components:
                row["loss_components"] = result.loss_components
            state.history.append(row)
            state.epoch = epoch
            with metrics_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row, default=_json_default) + "\n")
            logger.info("epoch %d/%d %s", epoch, num_epochs, row)
            full = checkpoint_state(epoch)
            save_checkpoint(last_path, full)
            if ckpt_every and epoch % int(ckpt_every) == 0:
                save_checkpoint(ckpt_dir / f"epoch_{epoch}.pt", full)
            hooks.call("on_epoch_end", state, row)
            if state.should_stop:
                logger.info("stopped by a callback after epoch %d", epoch)
                break
    except TrialPruned:
        status = "pruned"
        logger.info("trial pruned after epoch %d", state.epoch)
    except BaseException as exc:
        exc._automl_state = state  # type: ignore[attr-defined]
        raise

    model_dir: Path | None = None
    if status == "completed":
        if best_state is not None:
            model.load_state_dict(best_state)
        model_dir = _write_model_folder(
            model_dir=trial_dir / MODEL_DIR,
            model=model,
            spec=spec,
            task=task,
            labels=labels,
            hp=hp,
            metrics=best_metrics,
            history=state.history,
            model_kwargs=model_kwargs,
        )
    result = TrialResult(
        status=status,
        primary_metric=primary,
        best_score=state.best_score,
        metrics=best_metrics,
        model_dir=model_dir,
        epochs=state.epoch,
        best_epoch=state.best_epoch,
        trial_dir=trial_dir,
        history=state.history,
        hyperparameters=hp,
        stopped_early=stopped_early,
        seconds=time.perf_counter() - started,
    )
    logger.info("trial %s: %s", status, result.to_dict())
    hooks.call("on_train_end", state, result)
    return result
