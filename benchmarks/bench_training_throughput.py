"""Training throughput: automl_nb's ``train_one_epoch`` vs a plain hand-written PyTorch loop.

Both loops train the same architecture (same initial weights) with the same optimizer, on the
same ``DataLoader`` (real JPEG decoding and augmentation of the automl_nb classification
pipeline) and batch size. They alternate epoch by epoch, after one warm-up epoch each, so
load changes on the machine hit both alike. Prints images/s of each (median over the
rounds) and the ratio ours / plain (target >= 0.95).

The default run (tiny timm ResNet, 64 px, 96 images, 5 rounds) takes well under 2 minutes
on a 2-core CPU. Bigger: ``--model resnet50 --size 224 --images 256 --batch-size 32``;
``--device cuda`` on a GPU (mixed precision, as trials use it). ``--precision auto`` trains
ours as a trial would (bf16 on CPUs that compute it natively) against the plain fp32 loop:
the ratio is then the speed-up mixed precision buys, not the engine's overhead.

Run:  python benchmarks/bench_training_throughput.py [--model test_resnet] [--size 64]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def plain_epoch(model, loader, optimizer, device, scaler) -> tuple[int, float]:
    """The loop a user would write by hand (no scheduler, logging or checks)."""
    import torch

    model.train()
    criterion = torch.nn.CrossEntropyLoss()
    seen = 0
    start = time.perf_counter()
    for images, targets in loader:
        images, targets = images.to(device), targets.to(device)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            with torch.autocast(device.type, dtype=torch.float16):
                loss = criterion(model(images), targets)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss = criterion(model(images), targets)
            loss.backward()
            optimizer.step()
        loss.item()  # a hand-written loop logs its loss too
        seen += len(images)
    return seen, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="test_resnet", help="any classification model name")
    parser.add_argument("--size", type=int, default=64, help="image / crop side in pixels")
    parser.add_argument("--images", type=int, default=96, help="training images")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5, help="timed epochs per loop")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--precision",
        default="fp32",
        choices=["auto", "fp32", "bf16"],
        help="our loop's advanced_settings.precision on the CPU (the plain loop stays fp32)",
    )
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from automl_nb.data import read_jsonl
    from automl_nb.data._datasets import ClassificationDataset
    from automl_nb.data._transforms import classification_transform
    from automl_nb.models import create_model
    from automl_nb.models import get_model_cfg
    from automl_nb.tasks import Task
    from automl_nb.testing.configs import trial_config
    from automl_nb.testing.datasets import make_classification_jsonl
    from automl_nb.training import create_optimizer
    from automl_nb.training import create_scheduler
    from automl_nb.training import resolve_device
    from automl_nb.training import train_one_epoch
    from automl_nb.training._precision import autocast_dtype
    from automl_nb.training._precision import precision_name

    device = resolve_device(args.device)
    torch.manual_seed(0)
    classes = ("can", "carton", "milk_bottle", "water_bottle")
    with tempfile.TemporaryDirectory() as tmp:
        path = make_classification_jsonl(
            tmp,
            n=args.images,
            size=args.size + args.size // 8,
            classes=classes,
            image_format="jpg",
        )
        data = read_jsonl(path, "image_classification")
        cfg = get_model_cfg(args.model, "image_classification")
        transform = classification_transform(
            train=True, mean=cfg.mean, std=cfg.std, training_crop_size=args.size
        )
        loader = torch.utils.data.DataLoader(
            ClassificationDataset(data, transform),
            batch_size=args.batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=args.workers,
            pin_memory=device.type == "cuda",
            persistent_workers=args.workers > 0,
        )
        base = create_model(
            args.model, task="image_classification", num_classes=len(classes), pretrained=False
        )
        hp = trial_config(
            model_name=args.model,
            **{
                "optimizer": "sgd",
                "learning_rate": 0.01,
                "momentum": 0.9,
                "nesterov": 1,
                "weight_decay": 1e-4,
                "number_of_epochs": args.rounds + 1,
                "learning_rate_scheduler": "warmup_cosine",
                "warmup_cosine_lr_warmup_epochs": 1,
            },
        )
        ours_model = copy.deepcopy(base).to(device)
        plain_model = copy.deepcopy(base).to(device)
        ours_opt = create_optimizer(ours_model, hp)
        plain_opt = create_optimizer(plain_model, hp)
        schedule = create_scheduler(ours_opt, hp, len(loader))
        amp = device.type == "cuda"
        ours_scaler = torch.amp.GradScaler("cuda") if amp else None
        plain_scaler = torch.amp.GradScaler("cuda") if amp else None
        precision = None
        if not amp:
            family = get_model_cfg(args.model, "image_classification").family
            precision = autocast_dtype(
                args.precision, device, task=Task.CLASSIFICATION, family=family
            )

        def ours() -> float:
            result = train_one_epoch(
                ours_model,
                loader,
                ours_opt,
                device=device,
                schedule=schedule,
                scaler=ours_scaler,
                precision=precision,
            )
            if amp:
                torch.cuda.synchronize()
            return result.images_per_second

        def plain() -> float:
            seen, seconds = plain_epoch(plain_model, loader, plain_opt, device, plain_scaler)
            if amp:
                torch.cuda.synchronize()
            return seen / seconds

        ours(), plain()  # warm-up: allocator, cudnn autotune, first JPEG decodes
        ours_rates, plain_rates = [], []
        for round_index in range(args.rounds):
            # Alternate which loop goes first so drift in machine load cancels out.
            if round_index % 2:
                ours_rates.append(ours())
                plain_rates.append(plain())
            else:
                plain_rates.append(plain())
                ours_rates.append(ours())
    ours_ips, plain_ips = statistics.median(ours_rates), statistics.median(plain_rates)
    ratio = ours_ips / plain_ips
    print(
        f"model {args.model}, {args.size} px, batch {args.batch_size}, {args.images} images, "
        f"{args.rounds} rounds, device {device}, ours in {precision_name(precision)}"
    )
    print(f"plain PyTorch loop : {plain_ips:8.1f} images/s  {[round(r, 1) for r in plain_rates]}")
    print(f"automl_nb engine   : {ours_ips:8.1f} images/s  {[round(r, 1) for r in ours_rates]}")
    print(f"ratio (ours/plain) : {ratio:8.3f}  (target >= 0.95)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
