"""Multi-process trial throughput: images/s of one trial on 1 and on N processes.

The same job (synthetic JPEG classification images, training from scratch) is trained by
:func:`automl_nb.training.run_trial` once on one process and once on N torchrun processes
(``advanced_settings.processes_per_trial``): N GPUs (NCCL) when the machine has them, else N
gloo processes sharing the CPU cores. ``training_batch_size`` is per process, so N processes
train N times the images per step. Prints the training images/s of each (median over the
epochs after the first, which warms up) and the scaling ratio N-process / (N x 1-process)
(target on GPUs: >= 0.9 for resnet50 at 224 px). On CPU every process, the baseline included,
gets ``--threads`` threads, so N processes use N times the cores of the baseline where the
machine has them.

Run:  python benchmarks/bench_distributed.py [--processes 2] [--model resnet18] [--size 64]
      python benchmarks/bench_distributed.py --model resnet50 --size 224 --images 2048  # GPUs
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def write_images(folder: Path, count: int, size: int) -> Path:
    """A two-class JSONL of ``count`` noisy JPEG images of ``size`` px."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(count):
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        pixels[:, :, i % 2] = 255  # the class is the dominant channel
        Image.fromarray(pixels).save(folder / "images" / f"{i:05d}.jpg", quality=90)
        lines.append({"image_url": f"images/{i:05d}.jpg", "label": "red" if i % 2 else "green"})
    jsonl = folder / "train.jsonl"
    jsonl.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return jsonl


def job_text(jsonl: Path, args: argparse.Namespace, processes: int) -> str:
    """The benchmark's job, on ``processes`` processes."""
    advanced = json.dumps({"use_pretrained": False, "processes_per_trial": processes})
    crop = args.size
    return f"""\
type: automl
task: image_classification
target_column_name: label
training_data: {{path: {jsonl}, type: uri_file}}
validation_data_size: 0.1
training_parameters:
  model_name: {args.model}
  number_of_epochs: {args.epochs}
  training_batch_size: {args.batch_size}
  validation_batch_size: {args.batch_size}
  training_crop_size: {crop}
  validation_crop_size: {crop}
  validation_resize_size: {crop}
  early_stopping: false
  random_seed: 1
  advanced_settings: '{advanced}'
"""


def throughput(history: list[dict]) -> float:
    """Median training images/s over the epochs after the first."""
    rates = [row["images_per_second"] for row in history[1:]] or [
        row["images_per_second"] for row in history
    ]
    return statistics.median(rates)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=0, help="N (default: GPUs, else 2)")
    parser.add_argument("--model", default="resnet18")
    parser.add_argument("--size", type=int, default=64, help="image / crop side in pixels")
    parser.add_argument("--images", type=int, default=160)
    parser.add_argument("--batch-size", type=int, default=16, help="per process")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads of every process, the 1-process baseline included (on a busy shared "
        "machine, several threads per process slow the baseline down out of all proportion)",
    )
    args = parser.parse_args(argv)

    import os

    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # the ranks inherit it
    import torch

    torch.set_num_threads(args.threads)

    from automl_nb.config import load_job
    from automl_nb.training import run_trial

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    n = args.processes or (gpus if gpus > 1 else 2)
    where = f"{n} GPUs (NCCL)" if gpus >= n else f"{n} CPU processes (gloo)"
    with tempfile.TemporaryDirectory(prefix="bench-distributed-") as tmp:
        work = Path(tmp)
        jsonl = write_images(work / "data", args.images, args.size)
        rates = {}
        for processes in (1, n):
            spec = load_job(job_text(jsonl, args, processes))
            result = run_trial(spec, {}, work / f"trial-{processes}")
            rates[processes] = throughput(result.history)
    print(
        f"{args.model} at {args.size} px, {args.images} images, batch {args.batch_size} per "
        f"process, {args.epochs} epochs, {args.threads} CPU threads a process; N = {where}"
    )
    print(f"1 process     {rates[1]:8.1f} images/s")
    print(f"{n} processes   {rates[n]:8.1f} images/s")
    print(f"scaling ratio {rates[n] / (n * rates[1]):.3f} of linear (target on GPUs >= 0.9)")
    print(f"speed-up      {rates[n] / rates[1]:.2f} x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
