"""`validate` catches at the boundary what only the models and the disk can say."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from automl_nb.cli import main
from automl_nb.config import load_job
from automl_nb.errors import ConfigError
from automl_nb.preflight import check_job
from automl_nb.preflight import preflight
from automl_nb.testing.datasets import make_classification_jsonl

HEAD = """task: {task}
target_column_name: label
training_data: {{path: train.jsonl, type: uri_file}}
"""


def _job(tmp_path: Path, body: str, task: str = "image_classification") -> Path:
    path = tmp_path / "job.yml"
    path.write_text(HEAD.format(task=task) + body + "\n", encoding="utf-8")
    return path


def _errors(tmp_path: Path, body: str, task: str = "image_classification") -> list[str]:
    return [str(p) for p in preflight(load_job(_job(tmp_path, body, task))).errors]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("training_parameters: {model_name: resnet_50}", "did you mean 'resnet50'"),
        ("training_parameters: {model_name: resnet5}", "unknown model_name 'resnet5'"),
        (
            "training_parameters: {model_name: fasterrcnn_resnet50_fpn}",
            "is for image_object_detection",
        ),
        ("training_parameters: {model_name: atss_r50_fpn_1x_coco}", "is an MMDetection model"),
        (
            "training_parameters: {model_name: resnet18, layers_to_freeze: 99999}",
            "has 5 layer groups",
        ),
        ("training_parameters: {model_name: vitb16r224, training_crop_size: 64}", "must equal"),
        (
            "training_parameters: {model_name: resnet18, checkpoint_path: nothing/here.pt}",
            "no model weights found",
        ),
        ("training_parameters: {checkpoint_run_id: no-such-job/0}", "run not found"),
        (
            "limits: {max_trials: 2}\nsweep: {sampling_algorithm: random}\nsearch_space:\n"
            "  - model_name: {type: choice, values: [resnet18, resnt34]}",
            "search_space[0].model_name.values[1]: unknown model_name 'resnt34'",
        ),
    ],
)
def test_jobs_that_cannot_run_are_located_errors(tmp_path: Path, body: str, expected: str) -> None:
    errors = _errors(tmp_path, body)
    assert errors and any(expected in e for e in errors), errors
    assert all(e.startswith(str(tmp_path / "job.yml") + ":") for e in errors), errors


def test_an_unavailable_detector_is_refused(tmp_path: Path) -> None:
    from automl_nb.models import get_model_cfg

    if get_model_cfg("yolov5", "image_object_detection").available:
        pytest.skip("yolov5 is available")
    errors = _errors(
        tmp_path, "training_parameters: {model_name: yolov5}", "image_object_detection"
    )
    assert any("not available yet" in e for e in errors)


def test_a_pickle_that_runs_code_is_refused_and_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (tmp_path / "best.pt").write_bytes(pickle.dumps({"state_dict": Evil()}))
    errors = _errors(
        tmp_path, "training_parameters: {model_name: resnet18, checkpoint_path: best.pt}"
    )
    assert any("cannot be opened as weights only" in e for e in errors), errors
    assert not marker.exists()


def test_a_real_weights_file_passes(tmp_path: Path) -> None:
    import torch

    torch.save({"w": torch.zeros(2)}, tmp_path / "w.pt")
    assert (
        _errors(tmp_path, "training_parameters: {model_name: resnet18, checkpoint_path: w.pt}")
        == []
    )


def test_good_jobs_pass_and_keys_not_acted_on_are_warnings(tmp_path: Path) -> None:
    spec = load_job(
        _job(
            tmp_path,
            "compute: azureml:gpu-cluster\nproperties: {node_count_per_trial: '2'}\n"
            "training_parameters: {model_name: resnet18, distributed: true, augmentations: x}",
        )
    )
    warnings = [str(w) for w in check_job(spec)]
    for key in ("augmentations", "compute"):
        assert any(key in w for w in warnings), (key, warnings)
    # Acted on (torchrun's c10d rendezvous): the note says how to start the other nodes.
    assert any("node_count_per_trial" in w and "--node-rank" in w for w in warnings), warnings
    assert not any("distributed" in w for w in warnings)  # acted on: torchrun


def test_submit_refuses_a_job_that_cannot_run(tmp_path: Path) -> None:
    from automl_nb.runner import submit

    with pytest.raises(ConfigError, match="resnt18"):
        submit(
            _job(tmp_path, "training_parameters: {model_name: resnt18}"), workspace=tmp_path / "ws"
        )
    assert not (tmp_path / "ws").exists()


def test_validate_cli_exits_1_with_the_located_problem(tmp_path: Path, capsys) -> None:
    make_classification_jsonl(tmp_path, n=12, size=32, classes=("a", "b"), name="train.jsonl")
    bad = _job(tmp_path, "training_parameters: {model_name: resnet_50}")
    assert main(["validate", str(bad), "--no-images"]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:4: training_parameters.model_name" in err and "resnet50" in err
    good = _job(tmp_path, "training_parameters: {model_name: resnet18, augmentations: x}")
    assert main(["validate", str(good), "--no-images"]) == 0
    assert "warning:" in capsys.readouterr().err
