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
import time
from collections.abc import Iterable
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import torch

from automl_nb.config import resolve_trial_config
from automl_nb.training import engine
from automl_nb.training._builtin_callbacks import json_default
from automl_nb.training._callbacks import CallbackList
from automl_nb.training._callbacks import TrainState
from automl_nb.training._callbacks import TrialPruned
from automl_nb.training._device import seed_everything
from automl_nb.training._distributed import is_rank
from automl_nb.training._distributed import processes_per_trial
from automl_nb.training._launch import run_distributed_trial
from automl_nb.training._model_folder import write_model_folder
from automl_nb.training._nodes import node_count
from automl_nb.training._result import TrialResult
from automl_nb.training._setup import Fit
from automl_nb.training._setup import restore
from automl_nb.training._setup import setup_trial

if TYPE_CHECKING:
    from automl_nb.config import JobSpec

logger = logging.getLogger("automl_nb.training")

PARAMS_FILE = "params.json"
LOG_FILE = "log.txt"
MODEL_DIR = "model"


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


def run_trial(
    spec: JobSpec,
    params: Mapping[str, Any] | None,
    trial_dir: str | os.PathLike[str],
    *,
    device: str | torch.device | None = None,
    callbacks: Iterable[Any] = (),
    datasets: tuple[Any, Any] | None = None,
    resume: bool = False,
    time_budget: float | None = None,
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
        time_budget: Seconds this call may train; the trial ends after the last epoch that
            fits, with its best model. Default: the job's ``limits.trial_timeout_minutes`` (or
            ``timeout_minutes`` when smaller).

    A trial pruned or interrupted (``KeyboardInterrupt``: cancel, timeout) after an evaluation
    still writes ``model/`` from its best evaluated epoch, so nothing evaluated is lost.

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
            if time_budget is None:
                limits = spec.limits
                time_budget = 60.0 * min(limits.trial_timeout_minutes, limits.timeout_minutes)
            processes = 1 if is_rank() else processes_per_trial(resolve_trial_config(spec, params))
            nodes = 1 if is_rank() else node_count(spec)
            if processes > 1 or nodes > 1:  # torchrun ranks, in their own processes (_launch)
                if datasets is not None or hooks.callbacks:
                    logger.warning("datasets= and callbacks are not passed to the ranks")
                return run_distributed_trial(
                    spec,
                    params,
                    folder,
                    processes=processes,
                    nodes=nodes,
                    device=device,
                    resume=resume,
                    time_budget=time_budget,
                )
            fit, state = setup_trial(spec, params, folder, device, datasets, time_budget)
            if resume:
                restore(fit, state)
            try:
                status = _fit(fit, state, CallbackList([*fit.builtins, *hooks.callbacks]))
            except KeyboardInterrupt:
                if fit.best.weights is not None:
                    _keep_best_model(spec, fit, state)
                raise
            result = _finalize(spec, fit, state, status, started)
        except BaseException as exc:
            logger.exception("trial failed: %s", exc)
            hooks.call_quietly("on_exception", state, exc)
            raise
        hooks.call("on_train_end", state, result)
        return result


def _fit(fit: Fit, state: TrainState, hooks: CallbackList) -> str:
    """The epoch loop; returns ``"completed"`` or ``"pruned"``."""
    cfg = fit.cfg
    seed = int(cfg.random_seed or 0)
    cuda = fit.device.type == "cuda"
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
            if hasattr(fit.train_loader.sampler, "set_epoch"):  # DistributedSampler
                fit.train_loader.sampler.set_epoch(epoch)
            if hasattr(fit.train_loader.dataset, "set_epoch"):  # yolov5: no mosaic at the end
                fit.train_loader.dataset.set_epoch(epoch, cfg.number_of_epochs)
            if cuda:
                torch.cuda.reset_peak_memory_stats(fit.device)
            result = engine.train_one_epoch(
                fit.model if fit.train_model is None else fit.train_model,
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
                ema=fit.ema,
                precision=fit.precision,
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


def _epoch_row(fit: Fit, state: TrainState, epoch: int, result: Any) -> dict[str, Any]:
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
        metrics = _evaluate(fit, fit.valid_loader)
        scalars = _scalars(metrics)
        row[state.primary_metric] = _finite(scalars.get(state.primary_metric))
        row.update({k: v for k, v in scalars.items() if k != state.primary_metric})
        if cfg.log_validation_loss == "enable":
            row["validation_loss"] = _validation_loss(fit, metrics)
        if fit.train_eval_loader is not None:
            train_scalars = _scalars(_evaluate(fit, fit.train_eval_loader))
            row.update({f"train_{k}": v for k, v in train_scalars.items()})
        row["validation_seconds"] = round(time.perf_counter() - eval_start, 3)
        state.last_metrics = metrics
    row["images_per_second"] = result.images_per_second
    row["seconds"] = result.seconds
    cuda = fit.device.type == "cuda"
    row["gpu_memory_mb"] = torch.cuda.max_memory_allocated(fit.device) / 2**20 if cuda else 0.0
    if result.loss_components:
        row["loss_components"] = result.loss_components
    return row


def _evaluate(fit: Fit, loader: Any) -> dict[str, Any]:
    cfg = fit.cfg
    return engine.evaluate(
        fit.eval_model,
        loader,
        task=cfg.task,
        labels=fit.labels,
        device=fit.device,
        metric_type=cfg.validation_metric_type,
        iou_threshold=cfg.validation_iou_threshold,
        mask_threshold=cfg.mask_pixel_score_threshold,
        precision=fit.precision,
    )


def _scalars(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def _validation_loss(fit: Fit, metrics: Mapping[str, Any]) -> float | None:
    """The unweighted validation loss (``log_validation_loss: enable``).

    Classifiers: the cross-entropy (multi-class) or BCE (multi-label) the metrics already
    computed as ``log_loss``; detectors: the model's own loss terms on the validation set.
    """
    if fit.cfg.task.is_classification:
        return _finite(metrics.get("log_loss"))
    return _finite(
        engine.detection_validation_loss(fit.eval_model, fit.valid_loader, device=fit.device)
    )


def _keep_best_model(spec: JobSpec, fit: Fit, state: TrainState) -> Path:
    """Write ``model/`` from the best evaluated weights (the last ones when none was)."""
    if fit.best.weights is not None:
        fit.eval_model.load_state_dict(fit.best.weights)
    return write_model_folder(
        state.trial_dir / MODEL_DIR,
        model=fit.eval_model,
        spec=spec,
        cfg=fit.cfg,
        labels=fit.labels,
        metrics=fit.best.metrics,
        history=state.history,
        model_kwargs=fit.model_kwargs,
    )


def _finalize(
    spec: JobSpec, fit: Fit, state: TrainState, status: str, started: float
) -> TrialResult:
    """Write the model folder of the best epoch (completed trials) and build the result."""
    model_dir: Path | None = None
    if status == "completed" or fit.best.weights is not None:
        model_dir = _keep_best_model(spec, fit, state)
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
