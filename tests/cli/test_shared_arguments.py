"""Arguments declared once for several verbs, and the verbs as registries."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from automl_nb.cli import VERBS
from automl_nb.cli import build_parser
from automl_nb.cli import main
from automl_nb.cli._jobs_common import applied_datastores
from automl_nb.cli._jobs_common import task_name
from automl_nb.data import DATASTORES_ENV
from automl_nb.errors import AutoMLError
from automl_nb.errors import DataError
from automl_nb.testing.datasets import write_image
from automl_nb.testing.datasets import write_lines

DATA_VERBS = ("run", "submit", "check", "convert", "worker", "validate")


def _subparser(verb: str) -> argparse.ArgumentParser:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[verb]


@pytest.mark.parametrize("verb", DATA_VERBS)
def test_every_data_verb_takes_datastore(verb: str) -> None:
    options = {o for a in _subparser(verb)._actions for o in a.option_strings}
    assert "--datastore" in options


def test_cli_verbs_are_a_registry_with_suggestions() -> None:
    assert VERBS.names()[:3] == ["validate", "check", "convert"]
    with pytest.raises(AutoMLError, match="unknown command 'valdate'; did you mean 'validate'"):
        VERBS.get("valdate")


def test_task_names_accept_short_forms_and_suggest() -> None:
    assert task_name("detection") == "image_object_detection"
    assert task_name("Image-Classification") == "image_classification"
    with pytest.raises(argparse.ArgumentTypeError, match="did you mean 'image_classification'"):
        task_name("image_clasification")


def test_models_cli_takes_a_short_task_name(capsys) -> None:
    assert main(["models", "--task", "detection", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {r["task"] for r in rows} == {"image_object_detection"}
    with pytest.raises(SystemExit):
        main(["models", "--task", "detection2x"])
    assert "unknown task 'detection2x'" in capsys.readouterr().err


def test_datastores_are_set_while_a_verb_runs_then_restored(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(DATASTORES_ENV, "other=/elsewhere")
    args = argparse.Namespace(datastore=[f"blob={tmp_path}"])
    with applied_datastores(args) as mapping:
        assert mapping == {"other": "/elsewhere", "blob": str(tmp_path)}
        assert json.loads(os.environ[DATASTORES_ENV]) == mapping
    assert os.environ[DATASTORES_ENV] == "other=/elsewhere"
    bad = argparse.Namespace(datastore=["nonsense"])
    with pytest.raises(DataError, match="--datastore"), applied_datastores(bad):
        pass


def test_check_resolves_azureml_paths_with_datastore(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv(DATASTORES_ENV, raising=False)
    for i in range(10):
        write_image(tmp_path / "blob" / "img" / f"{i}.png")
    lines = [
        {"image_url": f"azureml://datastores/blobstore/paths/img/{i}.png", "label": "ab"[i % 2]}
        for i in range(10)
    ]
    write_lines(tmp_path / "train.jsonl", lines)
    mapping = f"blobstore={tmp_path / 'blob'}"
    assert main(["check", str(tmp_path / "train.jsonl"), "--json", "--datastore", mapping]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["ok"], report["images"], report["broken"]) == (True, 10, [])
    assert DATASTORES_ENV not in os.environ
    assert main(["check", str(tmp_path / "train.jsonl")]) == 2
    assert "datastore 'blobstore' is not mapped" in capsys.readouterr().err
    status = main(["check", str(tmp_path / "train.jsonl"), "--datastore", "nonsense"])
    assert status == 2
    assert (
        "--datastore: datastore mapping entries must read NAME=FOLDER" in capsys.readouterr().err
    )


def test_magic_verbs_are_a_registry() -> None:
    from automl_nb.notebook.verbs import CLI_VERBS
    from automl_nb.notebook.verbs import VERB_MODULES
    from automl_nb.notebook.verbs import get_verb

    assert "submit" in VERB_MODULES and get_verb("models").CELL == "none"
    assert set(CLI_VERBS.values()) <= set(VERBS.names())
    with pytest.raises(UsageError, match="unknown verb 'sumbit'; did you mean 'submit'"):
        get_verb("sumbit")


def test_help_names_the_command_of_each_shared_verb() -> None:
    from automl_nb.notebook import automl_vision

    rows = {row[0]: row[2] for row in automl_vision("help").rows}
    assert rows["%automl_vision deploy"] == "automl-vision serve"
    assert rows["%automl_vision models"] == "automl-vision models"
    assert rows["%automl_vision new"] == ""


def test_check_magic_takes_the_same_datastore_argument(tmp_path: Path, monkeypatch) -> None:
    from automl_nb.notebook import automl_vision

    monkeypatch.delenv(DATASTORES_ENV, raising=False)
    for i in range(10):
        write_image(tmp_path / "blob" / "img" / f"{i}.png")
    lines = [
        {"image_url": f"azureml://datastores/blobstore/paths/img/{i}.png", "label": "ab"[i % 2]}
        for i in range(10)
    ]
    write_lines(tmp_path / "train.jsonl", lines)
    line = f"check --file {tmp_path / 'train.jsonl'} --task classification"
    with pytest.raises(DataError, match="datastore 'blobstore' is not mapped"):
        automl_vision(line)
    report = automl_vision(f"{line} --datastore blobstore={tmp_path / 'blob'}")
    assert report.ok and report.to_dict()["images"] == 10
    assert DATASTORES_ENV not in os.environ
