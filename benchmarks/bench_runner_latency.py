"""Runner latency: time from ``submit`` to the first training step, and the idle gap between
one trial ending and the next starting on the same slot.

Baseline, measured in the same run: the same trial launched as a plain
``python -c "run_trial(...)"`` subprocess (interpreter start, imports, data, model) — what a
user pays without the runner. Prints each latency and the ratio runner / baseline.

"First training step" is read from the trial's first ``metrics.jsonl`` row: the time it was
written minus the epoch's own ``seconds`` (so epoch length does not count).

Run:  python benchmarks/bench_runner_latency.py [--trials 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

JOB = """\
type: automl
task: image_classification
target_column_name: label
training_data: {{path: {data}, type: uri_file}}
limits: {{max_trials: {trials}, max_concurrent_trials: 1}}
sweep: {{sampling_algorithm: grid}}
search_space:
  - learning_rate: {{type: choice, values: {rates}}}
training_parameters:
  model_name: resnet18
  number_of_epochs: 1
  training_batch_size: 8
  validation_batch_size: 16
  training_crop_size: 32
  validation_crop_size: 32
  validation_resize_size: 36
  advanced_settings: '{{"use_pretrained": false}}'
"""


def first_row_written(trial_dir: Path) -> float:
    """mtime of metrics.jsonl right after its first row (the file is only appended to)."""
    return (trial_dir / "metrics.jsonl").stat().st_mtime


def run_baseline(job_yaml: Path, out: Path) -> float:
    """Seconds from launching a plain subprocess trial to its first training step."""
    code = (
        "from automl_nb.config import load_job; from automl_nb.training import run_trial; "
        f"run_trial(load_job({str(job_yaml)!r}), {{'learning_rate': 0.01}}, {str(out)!r})"
    )
    start = time.time()
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": str(os.cpu_count() or 1)},
    )
    row = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
    # The single epoch's row is written once it ends: step one began `seconds` earlier.
    return first_row_written(out) - float(row["seconds"]) - start


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from automl_nb.runner import submit
    from automl_nb.runner._layout import read_json
    from automl_nb.testing.datasets import make_classification_jsonl

    work = Path(tempfile.mkdtemp(prefix="bench-runner-"))
    data = make_classification_jsonl(work / "data", n=40, size=32, classes=("a", "b"))
    rates = [round(0.01 * (i + 1), 3) for i in range(args.trials)]
    job_yaml = work / "job.yml"
    job_yaml.write_text(JOB.format(data=data, trials=args.trials, rates=rates), encoding="utf-8")

    baseline = run_baseline(job_yaml, work / "baseline")

    start = time.time()
    job = submit(str(job_yaml), workspace=work / "ws")
    job.wait(timeout=1800)
    trials = sorted(job.trials(), key=lambda t: t.number)
    first = trials[0].folder
    row = json.loads((first / "metrics.jsonl").read_text().splitlines()[0])
    to_first_step = first_row_written(first) - float(row["seconds"]) - start

    gaps = []
    for previous, following in zip(trials, trials[1:]):
        ended = read_json(previous.folder / "status.json")["ended"]
        follow_row = json.loads((following.folder / "metrics.jsonl").read_text().splitlines()[0])
        started_training = first_row_written(following.folder) - float(follow_row["seconds"])
        gaps.append(started_training - ended)
    gap = statistics.median(gaps) if gaps else float("nan")

    print(f"machine: {os.cpu_count()} CPU cores; job {job.id}: {job.status}")
    print(f"baseline (plain subprocess trial) launch -> first step: {baseline:6.2f} s")
    print(
        f"runner submit -> first training step:                {to_first_step:6.2f} s"
        f"  ratio {to_first_step / baseline:.2f}"
    )
    print(
        f"runner idle gap, trial end -> next first step (median of {len(gaps)}): {gap:6.2f} s"
        f"  ratio {gap / baseline:.2f}"
    )


if __name__ == "__main__":
    main()
