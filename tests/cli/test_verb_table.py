"""One verb table for the command line and the magics: the same arguments, the same model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from automl_nb.cli import build_parser
from automl_nb.cli import main
from automl_nb.cli._verb_table import VERB_TABLE
from automl_nb.cli._verb_table import magic_verbs
from automl_nb.notebook._dispatch import make_parser
from automl_nb.runner import get_job
from automl_nb.runner._job import prepare_job_dir
from automl_nb.runner._status import StatusRecorder
from automl_nb.testing.configs import job_spec
from automl_nb.testing.datasets import write_image
from automl_nb.testing.models import tiny_model_folder


def _cli_parser(verb: str) -> argparse.ArgumentParser:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[verb]


def _arguments(parser: argparse.ArgumentParser) -> dict[str, tuple]:
    """``{dest: (option strings, nargs, default)}`` of a parser, help left out."""
    return {
        a.dest: (tuple(a.option_strings), a.nargs, a.default)
        for a in parser._actions
        if not isinstance(a, argparse._HelpAction)
    }


@pytest.mark.parametrize(("magic", "command"), sorted(magic_verbs().items()))
def test_a_shared_verb_takes_the_same_arguments_on_both_surfaces(magic, command) -> None:
    shared = argparse.ArgumentParser()
    VERB_TABLE.get(command).arguments(shared)
    declared = _arguments(shared)
    cli, notebook = _arguments(_cli_parser(command)), _arguments(make_parser(magic))
    for dest, spec in declared.items():
        assert cli[dest] == spec and notebook[dest] == spec, dest
    # What only one surface has is how it shows the result, never an input of the work.
    only_cli = set(cli) - set(declared)
    only_notebook = set(notebook) - set(declared)
    assert only_cli <= {"json", "indent", "with_paths", "out", "quiet"}, only_cli
    assert only_notebook <= {"threshold", "max", "viewer", "stop", "no_dashboard"}, only_notebook


def test_every_cli_verb_runs_with_args_and_a_context() -> None:
    import inspect

    for verb in build_parser()._subparsers._group_actions[0].choices:  # type: ignore[union-attr]
        module = _cli_parser(verb).get_default("_module")
        assert list(inspect.signature(module.run).parameters) == ["args", "ctx"], verb


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """Two jobs: an older one with a best model, a newer canceled one without."""
    root = tmp_path_factory.mktemp("ws")
    older = prepare_job_dir(job_spec(), workspace=root)
    tiny_model_folder(older.best_model, labels=["can", "carton"])
    StatusRecorder(older).job("completed")
    newer = prepare_job_dir(job_spec(), workspace=root)
    StatusRecorder(newer).job("canceled")
    write_image(root / "img.png", size=40)
    return root


def _jobs(workspace: Path) -> tuple[str, str]:
    from automl_nb.runner import list_jobs

    older, newer = list_jobs(workspace=workspace)
    return older.id, newer.id


def test_predict_without_a_model_uses_the_newest_job_that_has_one(workspace, capsys) -> None:
    older, newer = _jobs(workspace)
    image = str(workspace / "img.png")
    assert main(["predict", image, "--workspace", str(workspace)]) == 0
    predictions = json.loads(capsys.readouterr().out)
    assert len(predictions) == 1 and set(predictions[0]["labels"]) == {"can", "carton"}
    # A model folder first among the images still works, as before.
    model_dir = str(get_job(older, workspace=workspace).best_model_dir)
    assert main(["predict", model_dir, image]) == 0
    assert json.loads(capsys.readouterr().out) == predictions
    # Naming the canceled job says why it cannot be used.
    assert main(["predict", image, "--job", newer, "--workspace", str(workspace)]) == 2
    assert f"job {newer} has no best model yet (status: canceled)" in capsys.readouterr().err


def test_the_magics_pass_over_a_canceled_last_job_too(workspace, monkeypatch) -> None:
    from automl_nb.notebook import automl_vision
    from automl_nb.notebook._state import remember_job

    older, newer = _jobs(workspace)
    remember_job(get_job(newer, workspace=workspace))
    view = automl_vision(f"predict {workspace / 'img.png'} --workspace {workspace}")
    assert len(view.predictions) == 1
    best = automl_vision(f"best --workspace {workspace}")
    assert best.job.id == older


def test_no_job_with_a_model_is_a_clear_error(tmp_path, capsys) -> None:
    paths = prepare_job_dir(job_spec(), workspace=tmp_path)
    StatusRecorder(paths).job("failed")
    write_image(tmp_path / "img.png", size=40)
    status = main(
        ["export", "--format", "onnx", "-o", str(tmp_path / "out")]
        + [
            "--workspace",
            str(tmp_path),
        ]
    )
    assert status == 2
    err = capsys.readouterr().err
    assert "no job of the workspace has a best model yet" in err and "failed" in err


def test_cancel_target_forms() -> None:
    from automl_nb.cli._jobs_common import split_trial_target
    from automl_nb.errors import ConfigError

    assert split_trial_target("job-1/3") == ("job-1", 3)
    assert split_trial_target("/2") == (None, 2)
    assert split_trial_target("job-1") == ("job-1", None)
    assert split_trial_target(None) == (None, None)
    with pytest.raises(ConfigError, match="expected JOB, JOB/TRIAL or /TRIAL"):
        split_trial_target("/x")
