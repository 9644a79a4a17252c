"""The node worker's arguments and its loop over a job folder (no training here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl_nb.cli import main as cli
from automl_nb.runner._layout import write_json
from automl_nb.runner._node_worker import serve_nodes
from automl_nb.training import _nodes


def job_folder(workspace: Path, status: str) -> Path:
    job = workspace / "default" / "j-1"
    (job / "trials").mkdir(parents=True)
    write_json(job / "job.json", {"id": "j-1"})
    write_json(job / "status.json", {"status": status})
    return job


def test_worker_needs_a_storage_or_a_node_rank(tmp_path, capsys):
    assert cli(["worker", "j-1", "--workspace", str(tmp_path)]) == 2
    assert "--node-rank" in capsys.readouterr().err
    job_folder(tmp_path, "running")
    assert cli(["worker", "j-1", "--node-rank", "0", "--workspace", str(tmp_path)]) == 2
    assert "node 0 is the machine of the controller" in capsys.readouterr().err
    assert cli(["worker", "nope", "--node-rank", "1", "--workspace", str(tmp_path)]) == 2


def test_a_node_worker_of_an_ended_job_exits_with_its_state(tmp_path, capsys):
    job_folder(tmp_path, "canceled")
    assert cli(["worker", "j-1", "--node-rank", "1", "--workspace", str(tmp_path)]) == 0
    assert "node 1 finished (job canceled)" in capsys.readouterr().out
    assert serve_nodes("j-1", node_rank=2, workspace=tmp_path) == "canceled"


def test_ranks_are_numbered_by_node_as_on_one_machine(monkeypatch):
    monkeypatch.setenv("RANK", "0")  # c10d's own order
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv(_nodes.NODE_RANK_ENV, "2")
    assert _nodes.global_rank_from_env() == 5
    monkeypatch.delenv(_nodes.NODE_RANK_ENV)
    assert _nodes.global_rank_from_env() == 0
    record = {"nodes": 3, "processes_per_node": 2}
    assert list(_nodes.local_ranks(record, 2, 2)) == [4, 5]


def test_node_zero_hosts_the_rendezvous_at_the_configured_address(tmp_path, monkeypatch):
    monkeypatch.setenv(_nodes.NODE_ADDRESS_ENV, "10.1.2.3")
    monkeypatch.setenv(_nodes.RDZV_PORT_ENV, "29555")
    folder = tmp_path / "default" / "j-1" / "trials" / "4"
    record = _nodes.new_rendezvous(folder, nodes=2, processes=1)
    again = _nodes.new_rendezvous(folder, nodes=2, processes=1)
    assert record["endpoint"] == "10.1.2.3:29555"
    assert record["id"].startswith("j-1-4-") and record["id"] != again["id"]  # per run
    zero, one = _nodes.torchrun_arguments(record, 0), _nodes.torchrun_arguments(record, 1)
    assert "--rdzv-backend=c10d" in zero and f"--rdzv-id={record['id']}" in one
    assert any(a.startswith("--rdzv-conf=is_host=1") for a in zero)
    assert any(a.startswith("--rdzv-conf=is_host=0") for a in one)
    assert "--node-rank=1" in one and "--local-addr=10.1.2.3" in one


def test_two_workers_never_take_the_same_node(tmp_path):
    ranks = tmp_path / ".ranks"
    ranks.mkdir()
    record = {"id": "j-1-0-ab", "nodes": 3, "processes_per_node": 1}
    assert _nodes.missing_nodes(ranks, record) == [1, 2]
    assert _nodes._claim(ranks, record, 1)
    assert not _nodes._claim(ranks, record, 1)
    assert _nodes.missing_nodes(ranks, record) == [2]


@pytest.mark.parametrize(("properties", "nodes"), [({}, 1), ({"node_count_per_trial": 3}, 3)])
def test_node_count_comes_from_the_job_properties(properties, nodes):
    class Spec:
        pass

    spec = Spec()
    spec.properties = properties
    assert _nodes.node_count(spec) == nodes
