"""Real tiny jobs for the server and browser tests: synthetic two-colour images, 32 px,
resnet18 from scratch on CPU, trials in background kernels (about 40 s for two trials)."""

from __future__ import annotations

from pathlib import Path

TINY_SWEEP = """\
type: automl
task: image_classification
target_column_name: label
experiment_name: {experiment}
training_data: {{path: {jsonl}, type: uri_file}}
validation_data_size: 0.3
limits: {{max_trials: {max_trials}, max_concurrent_trials: 1}}
sweep: {{sampling_algorithm: grid}}
search_space:
  - model_name: {{type: choice, values: [{models}]}}
{failing}training_parameters:
  number_of_epochs: {epochs}
  training_batch_size: 8
  validation_batch_size: 16
  training_crop_size: 32
  validation_crop_size: 32
  validation_resize_size: 36
  learning_rate: 0.02
  early_stopping: false
  random_seed: 1
  advanced_settings: '{{"use_pretrained": false}}'
"""
# Trial 1 starts from weights that fit no layer of its model: it passes validation (the file
# is a real weights file) and fails in its kernel with a real error message.
FOREIGN_WEIGHTS = "foreign.pt"
FAILING_SUBSPACE = """\
  - model_name: resnet18
    checkpoint_path: {weights}
"""


def tiny_job_yaml(
    folder: Path,
    *,
    epochs: int = 2,
    models: tuple[str, ...] = ("resnet18",),
    experiment: str = "lab",
    failing: bool = True,
) -> Path:
    """Write the images, their JSONL and a job YAML under ``folder``; returns the YAML."""
    from automl_nb.testing.datasets import make_classification_jsonl

    folder.mkdir(parents=True, exist_ok=True)
    jsonl = make_classification_jsonl(folder / "data", n=24, size=32, classes=("red", "green"))
    extra = ""
    if failing:
        import torch

        weights = folder / FOREIGN_WEIGHTS
        torch.save({"not_a_layer_of_resnet18": torch.zeros(3)}, weights)
        extra = FAILING_SUBSPACE.format(weights=weights)
    path = folder / "job.yml"
    path.write_text(
        TINY_SWEEP.format(
            experiment=experiment,
            jsonl=jsonl,
            max_trials=len(models) + int(failing),
            models=", ".join(models),
            failing=extra,
            epochs=epochs,
        ),
        encoding="utf-8",
    )
    return path


def run_tiny_job(folder: Path, workspace: Path) -> object:
    """Run a two-trial job to its end in ``workspace``: trial 0 completes two epochs, trial 1
    fails (its checkpoint_path weights fit no layer). Returns the :class:`automl_nb.runner.Job`."""
    from automl_nb.runner import run_job

    return run_job(str(tiny_job_yaml(folder)), workspace=workspace)
