"""Where jobs live on disk, and the small JSON files that make the folder the source of truth.

Workspace layout (default ``./automl_runs``)::

    <workspace>/<experiment>/<job_id>/
        job.yaml            the resolved job spec
        job.json            id, experiment, created, storage URL
        status.json         controller state: status, pid, started/ended, error
        controller.log
        optuna.log          Optuna journal storage (default)
        cancel              present when the job was asked to stop
        trials/<n>/{params.json, metrics.jsonl, log.txt, status.json, kernel.log,
                    checkpoints/, model/}
        best_model/         copy of the best trial's model folder
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl_nb.errors import JobError

DEFAULT_WORKSPACE = "automl_runs"
WORKSPACE_ENV = "AUTOML_NB_WORKSPACE"


def default_workspace() -> Path:
    """The workspace folder: ``$AUTOML_NB_WORKSPACE``, else ``./automl_runs``."""
    return Path(os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE)


def new_job_id(name: str | None = None) -> str:
    """A unique, sortable, readable job id such as ``fridge-20261128-143501-3fa2``."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name or "job").strip("-.") or "job"
    return f"{slug[:40]}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file + rename) so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, default=str)
    os.replace(tmp, path)


def read_json(path: Path, default: Any = None) -> Any:
    """Read a JSON file, or return ``default`` when it is missing or being replaced."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return default


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """All complete JSON lines of a file (a partly written last line is skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


@dataclass(frozen=True)
class JobPaths:
    """The files of one job folder."""

    root: Path

    @property
    def job_id(self) -> str:
        return self.root.name

    @property
    def experiment(self) -> str:
        return self.root.parent.name

    @property
    def job_yaml(self) -> Path:
        return self.root / "job.yaml"

    @property
    def job_json(self) -> Path:
        return self.root / "job.json"

    @property
    def status_json(self) -> Path:
        return self.root / "status.json"

    @property
    def controller_log(self) -> Path:
        return self.root / "controller.log"

    @property
    def journal(self) -> Path:
        return self.root / "optuna.log"

    @property
    def cancel_flag(self) -> Path:
        return self.root / "cancel"

    @property
    def trials_dir(self) -> Path:
        return self.root / "trials"

    @property
    def best_model(self) -> Path:
        return self.root / "best_model"

    def trial_dir(self, number: int) -> Path:
        return self.trials_dir / str(number)


def iter_job_dirs(workspace: Path) -> Iterator[Path]:
    """Every job folder of a workspace (``<experiment>/<job_id>`` holding a ``job.json``)."""
    if not workspace.is_dir():
        return
    for job_json in sorted(workspace.glob("*/*/job.json")):
        yield job_json.parent


def find_job_dir(job: str | os.PathLike[str], workspace: Path | None = None) -> Path:
    """Resolve a job id (or a job folder path) to its folder.

    Raises:
        JobError: when no job of that id is in the workspace.
    """
    as_path = Path(job)
    if (as_path / "job.json").is_file():
        return as_path
    workspace = workspace or default_workspace()
    matches = [d for d in iter_job_dirs(workspace) if d.name == str(job)]
    if not matches:
        matches = [d for d in iter_job_dirs(workspace) if d.name.startswith(str(job))]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise JobError(f"no job {str(job)!r} in workspace {str(workspace)!r}")
    names = ", ".join(d.name for d in matches[:5])
    raise JobError(f"job id {str(job)!r} is ambiguous in {str(workspace)!r}: {names}")


def pid_alive(pid: int | None) -> bool:
    """True when a process with this pid exists (and is not a zombie)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
