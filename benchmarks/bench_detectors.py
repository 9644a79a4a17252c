"""Detectors from scratch at the same CPU time budget: ``yolov5`` vs Faster R-CNN.

On the fridge detection set (``../shared/data/odFridgeObjects``, Pascal VOC, read with
``automl_nb.data.converters``) with a fixed seeded 25% validation split, each detector trains
from scratch for the same wall-clock budget on the same threads, through automl-nb's own
pieces (``build_datasets``, ``create_model``, ``engine.train_one_epoch``, ``engine.evaluate``).
The learning rate follows the ``warmup_cosine`` shape over the *time* budget (warm-up over the
first ``--warmup`` fraction), so every model gets a complete schedule whatever its speed;
yolov5 trains its last ``--close-mosaic`` fraction without mosaic. Then both are evaluated
on the validation images (not counted in the budget), and the script prints mAP@0.5,
mAP@[.5:.95] and training images/s side by side with the ratios yolov5 / Faster R-CNN.

Target for yolov5 small at 320 px, 10 minutes on 2 cores: mAP@0.5 >= 0.90 and
mAP@[.5:.95] >= 0.62 (Ultralytics YOLO11n with its defaults: 0.911 and 0.630 at about 10
training images/s). Measured on a 2-core AVX512-BF16 CPU, bf16 autocast: yolov5 0.999 and
0.763 at 12.7 images/s (80 epochs); fasterrcnn_resnet18_fpn (fp32) 0.773 and 0.435 at 1.2.

Run:  python benchmarks/bench_detectors.py [--minutes 10] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_DATA = REPO.parent / "shared" / "data" / "odFridgeObjects"

# model name -> the hyperparameters of its recipe (over the model's defaults).
RECIPES: dict[str, dict[str, Any]] = {
    "yolov5": {
        "model_size": "small",
        "image_size": 320,
        "training_batch_size": 16,
        # Ultralytics' own choice for short runs: AdamW at 0.01 / (4 + classes). Azure's SGD
        # 0.01 (--set optimizer=sgd --set learning_rate=0.01) reached 0.609 mAP@[.5:.95].
        "optimizer": "adamw",
        "learning_rate": 0.00125,
        "weight_decay": 5e-4,
    },
    "fasterrcnn_resnet18_fpn": {
        "min_size": 320,
        "max_size": 427,
        "training_batch_size": 2,
        "learning_rate": 0.005,
        "optimizer": "sgd",
        "momentum": 0.9,
        "weight_decay": 1e-4,
    },
}
# Settings every recipe shares; the low score threshold lets mAP see the whole ranking.
COMMON = {
    "validation_batch_size": 8,
    "number_of_workers": 0,
    "nesterov": True,
    "box_score_threshold": 0.001,
}


class TimeSchedule:
    """``warmup_cosine`` over elapsed time instead of steps (see the module docstring)."""

    def __init__(self, optimizer: Any, budget: float, warmup: float, cycles: float = 0.45):
        self.optimizer = optimizer
        self.base = [g["lr"] for g in optimizer.param_groups]
        self.budget, self.warmup, self.cycles = budget, warmup, cycles
        self.start = time.perf_counter()
        self.apply()

    def fraction(self) -> float:
        """Share of the budget spent."""
        return (time.perf_counter() - self.start) / self.budget

    def apply(self) -> None:
        """Set the learning rate for the time now."""
        done = min(self.fraction(), 1.0)
        if done < self.warmup:
            factor = max(done / self.warmup, 0.01)
        else:
            progress = (done - self.warmup) / max(1e-9, 1.0 - self.warmup)
            factor = 0.5 * (1.0 + math.cos(math.pi * self.cycles * 2.0 * progress))
        for group, base in zip(self.optimizer.param_groups, self.base):
            group["lr"] = base * factor

    def step_iteration(self) -> None:
        """Called by ``train_one_epoch`` after every optimizer step."""
        self.apply()


class UntilBudget:
    """A loader that stops yielding batches once the schedule's time budget is spent."""

    def __init__(self, loader: Any, schedule: TimeSchedule) -> None:
        self.loader, self.schedule = loader, schedule

    def __iter__(self):
        for batch in self.loader:
            if self.schedule.fraction() >= 1.0:
                return
            yield batch


def load_split(data: Path, seed: int) -> tuple[Any, Any]:
    """The fridge set read from VOC, split 75 / 25 with ``seed``."""
    from automl_nb.data import split_validation
    from automl_nb.data.converters import read_format

    images, _ = read_format("voc", data, task="image_object_detection")
    return split_validation(images, 0.25, seed=seed)


def train_and_evaluate(
    name: str, train: Any, valid: Any, *, seconds: float, args: argparse.Namespace
) -> dict[str, Any]:
    """Train ``name`` from scratch for ``seconds``, then evaluate it."""
    import torch

    from automl_nb.config import load_job
    from automl_nb.config import resolve_trial_config
    from automl_nb.models import create_model
    from automl_nb.models import get_model_cfg
    from automl_nb.training import create_optimizer
    from automl_nb.training import engine
    from automl_nb.training._data import build_datasets
    from automl_nb.training._data import build_loaders
    from automl_nb.training._ema import ModelEma
    from automl_nb.training._precision import autocast_dtype
    from automl_nb.training._precision import precision_name
    from automl_nb.training._setup import model_kwargs

    task = "image_object_detection"
    params = {**COMMON, **RECIPES[name], **args.overrides, "model_name": name}
    advanced = {"use_pretrained": False, "apply_mosaic_for_yolo": True}
    advanced.update(params.pop("advanced_settings", {}))
    spec = load_job(
        {
            "task": task,
            "target_column_name": "label",
            "training_data": {"path": "unused.jsonl", "type": "uri_file"},
            "training_parameters": {
                **params,
                "advanced_settings": json.dumps(advanced),
            },
        }
    )
    model_cfg = get_model_cfg(name, task)
    cfg = resolve_trial_config(spec, model_cfg=model_cfg)
    labels = list(train.labels)
    torch.manual_seed(args.seed)
    train_ds, valid_ds = build_datasets(train, valid, cfg=cfg, model_cfg=model_cfg, labels=labels)
    generator = torch.Generator().manual_seed(args.seed)
    train_loader, valid_loader = build_loaders(
        train_ds, valid_ds, cfg=cfg, device=torch.device("cpu"), generator=generator
    )
    model = create_model(
        name,
        task=task,
        num_classes=len(labels),
        pretrained=False,
        **model_kwargs(cfg, model_cfg),
    )
    optimizer = create_optimizer(model, cfg)
    # yolov5 averages its weights by default (advanced_settings.model_ema), as run_trial does.
    ema = (
        ModelEma(model, cfg.advanced_settings.model_ema_decay)
        if cfg.advanced_settings.model_ema
        else None
    )
    precision = autocast_dtype(
        cfg.advanced_settings.precision, "cpu", task=cfg.task, family=model_cfg.family
    )
    print(f"  {name}: precision {precision_name(precision)}", flush=True)
    schedule = TimeSchedule(optimizer, seconds, args.warmup)
    images = 0
    epochs = 0
    train_seconds = 0.0
    loss = float("nan")
    while schedule.fraction() < 1.0:
        if hasattr(train_ds, "use_mosaic"):
            train_ds._mosaic_on.fill_(int(schedule.fraction() < 1.0 - args.close_mosaic))
        result = engine.train_one_epoch(
            model,
            UntilBudget(train_loader, schedule),
            optimizer,
            device="cpu",
            task=task,
            schedule=schedule,
            epoch=epochs + 1,
            ema=ema,
            precision=precision,
        )
        images += result.images
        train_seconds += result.seconds
        epochs += 1
        loss = result.loss
        print(
            f"  {name}: epoch {epochs} loss {loss:.3f} lr {result.learning_rate:.5f} "
            f"{result.images_per_second:.1f} img/s ({schedule.fraction():.0%} of the budget)",
            flush=True,
        )
    metrics = engine.evaluate(
        model if ema is None else ema.module,
        valid_loader,
        task=task,
        labels=labels,
        device="cpu",
        metric_type="coco_voc",
        precision=precision,
    )
    return {
        "map_50": metrics.get("map_50") or metrics.get("map_voc"),
        "map_50_95": metrics.get("map_50_95"),
        "images_per_second": images / train_seconds if train_seconds else 0.0,
        "precision": precision_name(precision),
        "epochs": epochs,
        "images": images,
        "loss": loss,
    }


def _ratio(a: Any, b: Any) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "n/a"


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget per model")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="VOC dataset folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warmup", type=float, default=0.05, help="warm-up share of the budget")
    parser.add_argument(
        "--close-mosaic", type=float, default=0.15, help="yolov5: final share without mosaic"
    )
    parser.add_argument("--models", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--yolo-batch-size", type=int, default=None, help="yolov5 batch size")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a training parameter over every recipe (YAML value), e.g. --set optimizer=adamw",
    )
    args = parser.parse_args(argv)
    args.overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        args.overrides[key.strip()] = yaml.safe_load(value)
    if args.yolo_batch_size:
        RECIPES["yolov5"]["training_batch_size"] = args.yolo_batch_size

    import torch

    torch.set_num_threads(args.threads)
    if not args.data.is_dir():
        print(f"dataset folder {args.data} not found", file=sys.stderr)
        return 2
    train, valid = load_split(args.data, args.seed)
    print(
        f"{len(train.records)} training / {len(valid.records)} validation images, "
        f"{args.minutes:g} min per model, {args.threads} threads"
    )
    results = {}
    for name in args.models:
        results[name] = train_and_evaluate(
            name, train, valid, seconds=args.minutes * 60.0, args=args
        )
    print(f"\n{'model':<26}{'mAP@0.5':>9}{'mAP@.5:.95':>12}{'img/s':>8}{'epochs':>8}")
    for name, r in results.items():
        print(
            f"{name:<26}{r['map_50'] or 0:>9.3f}{r['map_50_95'] or 0:>12.3f}"
            f"{r['images_per_second']:>8.2f}{r['epochs']:>8d}"
        )
    if len(results) == 2:
        (a, ra), (b, rb) = results.items()
        print(
            f"ratio {a} / {b}: mAP@0.5 {_ratio(ra['map_50'], rb['map_50'])}, "
            f"mAP@[.5:.95] {_ratio(ra['map_50_95'], rb['map_50_95'])}, "
            f"img/s {_ratio(ra['images_per_second'], rb['images_per_second'])}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
