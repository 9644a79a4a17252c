"""The Azure-style example jobs in examples/jobs load, round-trip, and typos are caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl_nb.config import ConfigError
from automl_nb.config import dump_job
from automl_nb.config import load_job
from automl_nb.tasks import Task

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "jobs"
FILES = sorted(EXAMPLES.glob("azure-*.yml"))


def test_examples_exist():
    assert len(FILES) >= 7


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_example_loads_and_round_trips(path: Path):
    spec = load_job(path)
    assert spec.compute == "azureml:gpu-cluster"
    assert spec.training_data.path.startswith("data/")
    assert load_job(dump_job(spec)) == spec


def test_example_details():
    od = load_job(EXAMPLES / "azure-image-object-detection.yml")
    assert [s["model_name"].values for s in od.search_space] == [
        ("yolov5",),
        ("fasterrcnn_resnet50_fpn",),
    ]
    assert od.sweep.early_termination.slack_factor == 0.2
    auto = load_job(EXAMPLES / "azure-image-object-detection-automode.yml")
    assert auto.is_automode and auto.sweep is None
    seg = load_job(EXAMPLES / "azure-image-instance-segmentation.yml")
    assert seg.task is Task.INSTANCE_SEGMENTATION
    props = load_job(EXAMPLES / "azure-image-object-detection-properties.yml")
    assert props.properties["node_count_per_trial"] == 2
    assert props.training_parameters.tile_grid_size == (3, 2)
    assert props.training_parameters.advanced_settings["stream_image_files"] is True
    old = load_job(EXAMPLES / "azure-image-classification-string-expressions.yml")
    new = load_job(EXAMPLES / "azure-image-classification-multiclass.yml")
    assert old.search_space == new.search_space and old.limits == new.limits


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_typo_in_a_copy_is_located_with_a_suggestion(path: Path, tmp_path: Path):
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("limits:"))
    lines.insert(index + 1, "  max_trails: 3")
    broken = tmp_path / path.name
    broken.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as info:
        load_job(broken)
    (problem,) = info.value.problems
    assert problem.file == str(broken)
    assert problem.line == index + 2
    assert problem.suggestion == "max_trials"
    assert f"{broken}:{index + 2}: limits.max_trails" in str(info.value)


def test_learning_rate_typo_in_the_multiclass_example(tmp_path: Path):
    source = (EXAMPLES / "azure-image-classification-multiclass.yml").read_text()
    broken = tmp_path / "job.yml"
    broken.write_text(source.replace("    learning_rate:\n", "    learning_rat:\n", 1))
    line = source.splitlines().index("    learning_rate:") + 1
    with pytest.raises(ConfigError) as info:
        load_job(broken)
    (problem,) = info.value.problems
    assert (problem.line, problem.path) == (line, "search_space[0].learning_rat")
    assert "did you mean 'learning_rate'?" in str(info.value)
