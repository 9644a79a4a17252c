"""AutoMode against a hand-tuned single configuration, at the same wall-clock budget.

The data is a fixed seeded split (25% of each class held out) of one of the real fridge sets
under ``../shared/data``:

* ``multiclass`` (default): the 134 fridge thumbnails (``fridgeObjects/thumbnails_150``);
* ``multilabel``: ``odFridgeObjects/labels_multilabel_derived.csv``;
* ``detection``: ``odFridgeObjects`` (Pascal VOC).

Both contestants run the way a user runs them, ``automl-vision run JOB.yml --json`` in a
fresh process, from scratch (``use_pretrained: false``):

* **AutoMode**: ``limits: {max_trials: N, timeout_minutes: M}``, no search space. Its
  planning (data checks, profile and cost probe) counts against the ``M`` minutes, as for any job.
* **hand-tuned**: one trial of a fixed configuration (classification: resnet18, crop 64,
  lr 0.05, no early stopping; detection: yolov5 small at 320 px) with as many epochs as fit
  in the same ``M`` minutes: ``number_of_epochs`` is 1.3 x 90% of the budget over the epoch time
  an AutoMode trial of that model and size took on this machine (else the one its probe
  expected; ``--baseline-epochs`` overrides), and ``timeout_minutes: M``: the trial's time
  budget fits its learning-rate schedule to the epochs that really fit and ends it after the
  last one, with its best model. By
  default it runs with the CPU threads per trial AutoMode's plan chose, so both get the same
  compute (``--baseline-threads`` overrides).

Printed: each score (validation accuracy, or mAP@0.5 for detection), the ratio AutoMode /
hand-tuned, the wall time each used, the trials AutoMode ran, and the machine load
(``uptime``) before and after each run. Targets (fridge thumbnails, 5 minutes, 2-core CPU):
AutoMode >= 0.80 accuracy and >= the hand-tuned configuration.

Run:  python benchmarks/bench_automode_quality.py [--minutes 5] [--dataset multiclass]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"

TASKS = {
    "multiclass": "image_classification",
    "multilabel": "image_classification_multilabel",
    "detection": "image_object_detection",
}
BASELINES = {
    "classification": {
        "model_name": "resnet18",
        "training_crop_size": 64,
        "validation_crop_size": 64,
        "validation_resize_size": 72,
        "learning_rate": 0.05,
        "training_batch_size": 16,
        "early_stopping": False,
        "number_of_epochs": 10000,
    },
    "detection": {
        "model_name": "yolov5",
        "model_size": "small",
        "image_size": 320,
        "training_batch_size": 16,
        "optimizer": "adamw",
        "learning_rate": 0.00125,
        "early_stopping": False,
        "number_of_epochs": 10000,
    },
}


def convert_dataset(name: str, out: Path) -> Path:
    """The dataset as one JSONL file (image paths relative to it)."""
    from automl_nb.data.converters import convert

    target = out / "all.jsonl"
    if name == "multiclass":
        convert("folder", SHARED / "fridgeObjects" / "thumbnails_150", target)
    elif name == "multilabel":
        source = SHARED / "odFridgeObjects"
        convert(
            "csv",
            source / "labels_multilabel_derived.csv",
            target,
            images=source / "images",
            task="image_classification_multilabel",
        )
    else:
        convert("voc", SHARED / "odFridgeObjects", target)
    return target


def split(jsonl: Path, seed: int, share: float = 0.25) -> tuple[Path, Path]:
    """A seeded split holding out ``share`` of each (first) label: train and valid JSONL."""
    lines = [line for line in jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    groups: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        label = json.loads(line)["label"]
        if isinstance(label, list):
            label = label[0]["label"] if label and isinstance(label[0], dict) else str(label)
        groups[str(label)].append(line)
    rng = random.Random(seed)
    train, valid = [], []
    for key in sorted(groups):
        items = sorted(groups[key])
        rng.shuffle(items)
        n_valid = max(1, round(share * len(items)))
        valid += items[:n_valid]
        train += items[n_valid:]
    paths = jsonl.parent / "train.jsonl", jsonl.parent / "valid.jsonl"
    for path, chosen in zip(paths, (train, valid), strict=True):
        path.write_text("\n".join(chosen) + "\n", encoding="utf-8")
    return paths


def job_yaml(
    task: str, train: Path, valid: Path, limits: str, params: dict[str, Any], seed: int
) -> str:
    """A job YAML with fixed training and validation files."""
    lines = "".join(f"  {k}: {json.dumps(v)}\n" for k, v in params.items())
    return (
        textwrap.dedent(
            f"""\
        type: automl
        task: {task}
        target_column_name: label
        training_data: {{path: {train}, type: uri_file}}
        validation_data: {{path: {valid}, type: uri_file}}
        limits: {limits}
        training_parameters:
          random_seed: {seed}
          advanced_settings: '{{"use_pretrained": false}}'
        """
        )
        + lines
    )


def uptime() -> str:
    """The load averages (``uptime``)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "uptime unavailable"


def run_job(path: Path, workspace: Path, threads: int | None = None) -> dict[str, Any]:
    """``automl-vision run PATH --json`` in a fresh process; its summary and wall time."""
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    if threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[var] = str(threads)
    load_before = uptime()
    start = time.perf_counter()
    done = subprocess.run(
        [
            *(sys.executable, "-m", "automl_nb.cli", "run", str(path), "--json", "--no-progress"),
            *("--workspace", str(workspace)),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(path.parent),
    )
    wall = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    try:
        summary = json.loads(lines[-1])
    except (IndexError, ValueError):
        print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"{path.name}: no JSON summary (exit {done.returncode})") from None
    summary.update(wall=wall, load_before=load_before, load_after=uptime(), stdout=done.stdout)
    return summary


def job_details(summary: dict[str, Any]) -> dict[str, Any]:
    """Trials, the plan's thread count and the sweep's own start-to-end time."""
    folder = Path(summary["job_dir"])
    status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
    plan_path = folder / "plan.json"
    plan = json.loads(plan_path.read_text(encoding="utf-8")) if plan_path.is_file() else {}
    trials = []
    for trial in sorted((folder / "trials").glob("*"), key=lambda p: int(p.name)):
        record = json.loads((trial / "status.json").read_text(encoding="utf-8"))
        # Every resolved setting (a single trial's come from training_parameters).
        params = json.loads((trial / "hyperparameters.json").read_text(encoding="utf-8"))
        epochs = len((trial / "metrics.jsonl").read_text(encoding="utf-8").splitlines())
        size = params.get("training_crop_size") or params.get("image_size") or ""
        trials.append(
            f"trial {trial.name}: {params.get('model_name', '?')} {size}px "
            f"lr {params.get('learning_rate', 'default')} -> {record.get('state')} after "
            f"{epochs} epochs, best {record.get('best_score')}"
        )
    sweep = None
    if status.get("started") and status.get("ended"):
        sweep = status["ended"] - status["started"]
    return {"trials": trials, "threads": plan.get("threads"), "sweep_seconds": sweep}


# Over-planned epochs: the time budget shortens the schedule, it never lengthens it.
BASELINE_EPOCH_MARGIN = 1.3


def baseline_epochs(auto: dict[str, Any], params: dict[str, Any], minutes: int) -> int | None:
    """Epochs of the hand-tuned configuration: a margin over those that fit 90% of the budget,
    from the real epoch times of an AutoMode trial of the same model and size on this machine,
    else from the epoch time its plan expected (``None`` when there is neither). The trial's
    time budget then fits its schedule to the epochs that really fit, so it uses the whole
    budget whether the machine got faster or slower meanwhile."""
    folder = Path(auto["job_dir"])
    size = params.get("training_crop_size") or params.get("image_size")
    for trial in sorted((folder / "trials").glob("*"), key=lambda p: int(p.name)):
        c = json.loads((trial / "hyperparameters.json").read_text(encoding="utf-8"))
        rows = [json.loads(x) for x in (trial / "metrics.jsonl").read_text().splitlines() if x]
        same_size = (c.get("training_crop_size") or c.get("image_size")) == size
        if c.get("model_name") == params["model_name"] and same_size and rows:
            epoch = sum(r["seconds"] + r.get("validation_seconds", 0) for r in rows) / len(rows)
            return max(1, int(BASELINE_EPOCH_MARGIN * 0.9 * minutes * 60 / epoch))
    plan_path = folder / "plan.json"
    if not plan_path.is_file():
        return None
    for candidate in json.loads(plan_path.read_text(encoding="utf-8"))["candidates"]:
        c = candidate["params"]
        same_size = (c.get("training_crop_size") or c.get("image_size")) == size
        if c.get("model_name") == params["model_name"] and same_size:
            return max(
                1, int(BASELINE_EPOCH_MARGIN * 0.9 * minutes * 60 / candidate["epoch_seconds"])
            )
    return None


def main(argv: list[str] | None = None) -> int:
    """Run both contestants and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=5, help="budget of each contestant")
    parser.add_argument("--dataset", choices=sorted(TASKS), default="multiclass")
    parser.add_argument("--max-trials", type=int, default=10, help="AutoMode's max_trials")
    parser.add_argument("--seed", type=int, default=0, help="split and training seed")
    parser.add_argument("--baseline-threads", type=int, default=None, help="CPU threads")
    parser.add_argument("--baseline-epochs", type=int, default=None, help="hand-tuned epochs")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the jobs here")
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} is not present")
        return 0
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-automode-"))
    work.mkdir(parents=True, exist_ok=True)
    task = TASKS[args.dataset]
    train, valid = split(convert_dataset(args.dataset, work), args.seed)
    workspace = work / "ws"
    automode = work / "automode.yml"
    automode.write_text(
        job_yaml(
            task,
            train,
            valid,
            f"{{max_trials: {args.max_trials}, timeout_minutes: {args.minutes}}}",
            {},
            args.seed,
        ),
        encoding="utf-8",
    )
    print(f"dataset {args.dataset}: {train} / {valid}; budget {args.minutes} min each")
    auto = run_job(automode, workspace)
    details = job_details(auto)
    plan_text = auto["stdout"].split("\njob ")[0]
    print(plan_text)
    threads = args.baseline_threads or details["threads"]
    kind = "detection" if args.dataset == "detection" else "classification"
    params = dict(BASELINES[kind])
    epochs = args.baseline_epochs or baseline_epochs(auto, params, args.minutes)
    if epochs:
        params["number_of_epochs"] = epochs
    baseline = work / "baseline.yml"
    baseline.write_text(
        job_yaml(
            task,
            train,
            valid,
            f"{{max_trials: 1, timeout_minutes: {args.minutes}}}",
            params,
            args.seed,
        ),
        encoding="utf-8",
    )
    hand = run_job(baseline, workspace, threads=threads)
    hand_details = job_details(hand)
    metric = auto["primary_metric"]
    a, b = auto["best_score"], hand["best_score"]
    print("\n".join(details["trials"]))
    print("hand-tuned: " + "; ".join(hand_details["trials"]))
    print(
        f"AutoMode   {metric}: {a}  wall {auto['wall']:.0f} s (sweep {details['sweep_seconds']})"
    )
    print(
        f"hand-tuned {metric}: {b}  wall {hand['wall']:.0f} s (threads {threads or 'default'}, "
        f"{params['number_of_epochs']} epochs planned)"
    )
    ratio = a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else None
    print(f"ratio AutoMode / hand-tuned: {ratio:.3f}" if ratio else "ratio: n/a")
    print(f"load before/after AutoMode:   {auto['load_before']} | {auto['load_after']}")
    print(f"load before/after hand-tuned: {hand['load_before']} | {hand['load_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
