from __future__ import annotations

import json
import os

import pytest

from automl_nb.errors import JobError
from automl_nb.runner._layout import find_job_dir
from automl_nb.runner._layout import new_job_id
from automl_nb.runner._layout import pid_alive
from automl_nb.runner._layout import read_jsonl
from automl_nb.runner._layout import write_json


def test_job_ids_are_unique_and_readable():
    ids = {new_job_id("fridge detection!") for _ in range(50)}
    assert len(ids) == 50
    assert all(i.startswith("fridge-detection-") for i in ids)


def test_read_jsonl_skips_a_partly_written_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"epoch": 1}\n{"epoch": 2}\n{"epo', encoding="utf-8")
    assert read_jsonl(path) == [{"epoch": 1}, {"epoch": 2}]
    assert read_jsonl(tmp_path / "missing.jsonl") == []


def test_write_json_is_atomic_and_round_trips(tmp_path):
    write_json(tmp_path / "a" / "status.json", {"status": "running"})
    assert json.loads((tmp_path / "a" / "status.json").read_text()) == {"status": "running"}
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["status.json"]


def test_find_job_dir_by_id_prefix_and_ambiguity(tmp_path):
    for name in ("fridge-1", "fridge-2", "other-1"):
        write_json(tmp_path / "exp" / name / "job.json", {"id": name})
    assert find_job_dir("other", tmp_path).name == "other-1"
    assert find_job_dir("fridge-2", tmp_path).name == "fridge-2"
    with pytest.raises(JobError, match="ambiguous"):
        find_job_dir("fridge", tmp_path)
    with pytest.raises(JobError, match="no job"):
        find_job_dir("nothing", tmp_path)


def test_pid_alive():
    assert pid_alive(os.getpid())
    assert not pid_alive(None)
    assert not pid_alive(2**22 + 12345)
