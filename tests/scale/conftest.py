"""Fixtures for the scale tests: a throwaway PostgreSQL server, tiny jobs, process clean-up."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest

from automl_nb.testing.processes import kill_job_processes

# 32 px crops, resnet18 from scratch: a few seconds per epoch on 2 CPU cores.
TINY_TRAINING = """\
training_parameters:
  model_name: resnet18
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

# Debian keeps the server programs out of PATH; look there too.
POSTGRES_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _postgres_program(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in POSTGRES_BIN_DIRS:
        if (folder / name).is_file():
            return str(folder / name)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` (or ``nobody``) user."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("PostgreSQL cannot run as root and runuser is missing")
    for user in ("postgres", "nobody"):
        if subprocess.run(["id", "-u", user], capture_output=True).returncode == 0:
            return [runuser, "-u", user, "--", *command]
    pytest.skip("PostgreSQL cannot run as root and there is no postgres or nobody user")


def _owner_ids(command: list[str]) -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    user = command[2]
    uid = int(subprocess.run(["id", "-u", user], capture_output=True, text=True).stdout)
    gid = int(subprocess.run(["id", "-g", user], capture_output=True, text=True).stdout)
    return uid, gid


@pytest.fixture(scope="session")
def postgres_url():
    """``postgresql://...`` of a throwaway server (initdb in a temp folder, a free port, its
    unix socket in that folder); skips with the reason when the server cannot start here."""
    pytest.importorskip("psycopg", reason="the PostgreSQL driver psycopg is not installed")
    initdb, pg_ctl = _postgres_program("initdb"), _postgres_program("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL (initdb, pg_ctl) is not installed")
    root = Path(tempfile.mkdtemp(prefix="automl-pg-"))
    data, log = root / "data", root / "server.log"
    wrap = _as_server_user(["true"])
    owner = _owner_ids(wrap)
    if owner is not None:
        os.chown(root, *owner)
    port = _free_port()
    steps = [
        [initdb, "-D", str(data), "-U", "automl", "--auth=trust", "-E", "UTF8", "--no-sync"],
        [
            pg_ctl,
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        ],
    ]
    for step in steps:
        done = subprocess.run(wrap[:-1] + step, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
            server_log = log.read_text(errors="replace")[-500:] if log.exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            pytest.skip(f"PostgreSQL did not start: {detail[0]} {server_log}".strip())
    try:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=port, user="automl", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute("CREATE DATABASE sweeps")
        yield f"postgresql://automl@127.0.0.1:{port}/sweeps"
    finally:
        subprocess.run(
            wrap[:-1] + [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def colour_jsonl(tmp_path_factory) -> Path:
    """40 synthetic two-class images that a model learns in an epoch or two."""
    from automl_nb.testing.datasets import make_classification_jsonl

    return make_classification_jsonl(
        tmp_path_factory.mktemp("colours"), n=40, size=32, classes=("red", "green")
    )


@pytest.fixture
def write_scale_job(tmp_path, colour_jsonl):
    """Write a tiny classification job: ``write_scale_job(extra_yaml, epochs=2) -> path``."""

    def _write(extra: str, *, epochs: int = 2, jsonl: Path | None = None) -> Path:
        text = (
            "type: automl\n"
            "task: image_classification\n"
            "target_column_name: label\n"
            f"training_data: {{path: {jsonl or colour_jsonl}, type: uri_file}}\n"
            "validation_data_size: 0.3\n"
            + TINY_TRAINING.format(epochs=epochs)
            + textwrap.dedent(extra)
        )
        path = tmp_path / "job.yml"
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def workspaces(tmp_path):
    """``workspaces(name) -> folder``; every controller or kernel they record is killed after."""
    made: list[Path] = []

    def _make(name: str) -> Path:
        made.append(tmp_path / name)
        return made[-1]

    yield _make
    for folder in made:
        kill_job_processes(folder)
