"""Joining a sweep from another machine: rebuild the job folder from the shared storage."""

from __future__ import annotations

import os
import time
from pathlib import Path

from automl_nb.errors import JobError
from automl_nb.runner._controller import JobController
from automl_nb.runner._layout import JobPaths
from automl_nb.runner._layout import default_workspace
from automl_nb.runner._layout import write_json


def join_sweep(
    job_id: str, *, storage: str, workspace: str | os.PathLike[str] | None = None
) -> str:
    """Run trials of ``job_id`` on this machine against the shared ``storage``.

    The job spec is read from the study in the storage; trial folders are written under this
    machine's workspace (``<workspace>/<experiment>/<job_id>``). Returns the controller's final
    state once the sweep's trial budget is used up.
    """
    import optuna

    from automl_nb.config import load_job
    from automl_nb.runner._storage import open_storage

    study = optuna.load_study(study_name=job_id, storage=open_storage(storage, journal=Path()))
    job_yaml = study.user_attrs.get("job_yaml")
    if not job_yaml:
        raise JobError(f"study {job_id!r} in that storage has no job spec; submit the job first")
    spec = load_job(job_yaml)
    root = Path(workspace or default_workspace()) / (spec.experiment_name or "default") / job_id
    paths = JobPaths(root.resolve())
    paths.trials_dir.mkdir(parents=True, exist_ok=True)
    paths.job_yaml.write_text(job_yaml, encoding="utf-8")
    write_json(
        paths.job_json,
        {"id": job_id, "experiment": paths.experiment, "created": time.time(), "storage": storage},
    )
    return JobController(paths.root, storage=storage).run()
