"""``automl-vision run JOB.yml``: run a job in the foreground and write its job folder.

A single-trial job (``max_trials: 1`` and no ``search_space``) trains in this process with a
progress bar on stderr. Sweeps go to the job runner (trials in background kernels), whose
per-trial events are shown as they arrive. Either way the job folder is::

    <workspace>/<experiment_name or default>/<job_id>/
        job.yaml  job.json  status.json
        trials/0/{params.json, metrics.jsonl, log.txt, checkpoints/, model/}
        best_model/   (a copy of the best trial's model/)

With ``--json`` the last stdout line is a JSON summary: ``job_id``, ``status``,
``primary_metric``, ``best_score``, ``best_model_dir`` (plus ``job_dir`` and ``trials``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from automl_nb.cli._jobs_common import add_datastore_argument
from automl_nb.cli._jobs_common import add_set_argument
from automl_nb.cli._jobs_common import add_workspace_argument
from automl_nb.cli._jobs_common import load_job_with_overrides
from automl_nb.cli._verb_table import CommandContext

HELP = "run a job in the foreground (one trial or a sweep) and write its job folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``run``."""
    add_datastore_argument(parser)
    parser.add_argument("job", help="job YAML file")
    add_workspace_argument(parser)
    add_set_argument(parser)
    parser.add_argument(
        "--device",
        default=None,
        help="cpu, cuda or cuda:N (default: the job's compute; local = CUDA if available)",
    )
    parser.add_argument(
        "--json", action="store_true", help="end stdout with a one-line JSON summary"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")


class _Progress:
    """tqdm bars on stderr: one per epoch over its batches, and a line per finished epoch."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None

    def on_train_start(self, state: Any) -> None:
        if self.enabled:
            print(
                f"training {state.hyperparameters['model_name']} for {state.num_epochs} epochs",
                file=sys.stderr,
            )

    def on_train_batch_end(self, state: Any, index: int, total: int, loss: float) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total if total > 0 else None,
                desc=f"epoch {state.epoch + 1}/{state.num_epochs}",
                unit="batch",
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def on_epoch_end(self, state: Any, row: dict[str, Any]) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if not self.enabled:
            return
        text = (
            f"epoch {row['epoch']}/{state.num_epochs}  loss {row['train_loss']:.4f}  "
            f"lr {row['learning_rate']:.3g}"
        )
        score = row.get(state.primary_metric)
        if score is not None:
            text += f"  {state.primary_metric} {score:.4f}"
        text += f"  {row['images_per_second']:.1f} img/s  {row['seconds']:.1f}s"
        print(text, file=sys.stderr, flush=True)

    def on_exception(self, state: Any, exc: BaseException) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _is_sweep(spec: Any) -> bool:
    return int(spec.limits.max_trials) > 1 or bool(spec.search_space)


def run_single_trial(
    spec: Any,
    *,
    workspace: str | os.PathLike[str] | None = None,
    device: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run a one-trial job in this process and write its job folder.

    Args:
        spec: The job spec.
        workspace: Workspace folder (default ``$AUTOML_NB_WORKSPACE`` or ``./automl_runs``).
        device: Device override.
        progress: Show tqdm progress on stderr.

    Returns:
        The summary dict (``job_id``, ``status``, ``primary_metric``, ``best_score``,
        ``best_model_dir``, ``job_dir``, ``trials``).
    """
    from automl_nb.config import load_job
    from automl_nb.preflight import check_job
    from automl_nb.runner import prepare_job_dir
    from automl_nb.runner._publisher import BestModelPublisher
    from automl_nb.runner._status import StatusRecorder
    from automl_nb.training import run_trial

    for warning in check_job(spec):
        print(f"warning: {warning}", file=sys.stderr)
    paths = prepare_job_dir(spec, workspace=workspace)
    spec = load_job(paths.job_yaml)
    trial_dir = paths.trial_dir(0)
    trial_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    primary = spec.task.primary_metric
    status = StatusRecorder(paths, primary_metric=primary)
    status.job("running", pid=os.getpid(), started=started, mode="foreground")
    status.trial(0, "running", pid=os.getpid(), started=started, number=0)
    summary: dict[str, Any] = {
        "job_id": paths.job_id,
        "status": "failed",
        "primary_metric": primary,
        "best_score": None,
        "best_model_dir": None,
        "job_dir": str(paths.root),
        "trials": 1,
    }
    try:
        result = run_trial(spec, {}, trial_dir, device=device, callbacks=[_Progress(progress)])
    except BaseException as exc:
        state = "canceled" if isinstance(exc, KeyboardInterrupt) else "failed"
        error = f"{type(exc).__name__}: {exc}"
        ended = time.time()
        status.trial(0, state, error=error, ended=ended)
        status.job(state, error=error, ended=ended)
        raise
    best_model_dir = None
    if result.model_dir is not None:
        published = BestModelPublisher(paths).publish(0, result.model_dir)
        best_model_dir = str(published) if published is not None else None
    ended = time.time()
    status.trial(
        0,
        result.status,
        best_score=result.best_score,
        primary_metric=primary,
        epochs=result.epochs,
        ended=ended,
    )
    status.job("completed", best_score=result.best_score, best_trial=0, ended=ended)
    summary.update(
        status="completed",
        best_score=result.best_score,
        best_model_dir=best_model_dir,
        best_epoch=result.best_epoch,
        epochs=result.epochs,
        seconds=round(result.seconds, 1),
    )
    return summary


def _run_sweep(spec: Any, workspace: str | None, progress: bool) -> dict[str, Any]:
    from automl_nb.runner import run_job

    def on_event(event: Any) -> None:
        if not progress:
            return
        data = getattr(event, "data", {}) or {}
        kind = getattr(event, "kind", "")
        number = getattr(event, "number", "?")
        if kind == "epoch":
            score = data.get(spec.task.primary_metric)
            extra = f" {spec.task.primary_metric} {score:.4f}" if score is not None else ""
            print(f"trial {number} epoch {data.get('epoch')}{extra}", file=sys.stderr, flush=True)
        elif kind in ("started", "finished"):
            print(f"trial {number} {kind}: {json.dumps(data, default=str)}", file=sys.stderr)

    def on_plan(plan: Any) -> None:
        print(plan, flush=True)

    job = run_job(spec, workspace=workspace, on_event=on_event, on_plan=on_plan)
    best = job.best_trial()
    return {
        "job_id": job.id,
        "status": job.status,
        "primary_metric": spec.task.primary_metric,
        "best_score": best.best_score if best is not None else None,
        "best_model_dir": str(job.best_model_dir) if job.best_model_dir else None,
        "job_dir": str(job.dir),
        "trials": len(job.trials()),
    }


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Run the job; print a summary (and the JSON line with ``--json``)."""

    spec = load_job_with_overrides(args)
    progress = not args.no_progress
    if _is_sweep(spec):
        if args.device:
            print(
                "note: --device applies to single-trial jobs; sweeps use the runner's slots",
                file=sys.stderr,
            )
        summary = _run_sweep(spec, args.workspace, progress)
    else:
        summary = run_single_trial(
            spec, workspace=args.workspace, device=args.device, progress=progress
        )
    score = summary["best_score"]
    score_text = f"{score:.4f}" if isinstance(score, (int, float)) else "-"
    print(f"job {summary['job_id']}: {summary['status']}")
    print(f"{summary['primary_metric']}: {score_text}")
    print(f"job folder: {summary['job_dir']}")
    if summary["best_model_dir"]:
        print(f"best model: {summary['best_model_dir']}")
    if args.json:
        print(json.dumps(summary, default=str))
    return 0 if summary["status"] == "completed" else 1
