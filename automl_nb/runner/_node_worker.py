"""``automl-vision worker JOB --node-rank K``: be node ``K`` of each multi-machine trial of a job.

The job's controller (or ``automl-vision run``) runs node 0 of every trial; this loop, on
another machine that mounts the same workspace, watches the job folder for trials publishing a
rendezvous (:mod:`automl_nb.training._nodes`), joins each as node ``K``, waits for the next one
when a trial ends, and returns when the job ends.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from automl_nb.errors import JobError
from automl_nb.runner._layout import JobPaths
from automl_nb.runner._layout import find_job_dir
from automl_nb.runner._layout import read_json
from automl_nb.runner._status import JOB_CANCELED
from automl_nb.runner._status import JOB_COMPLETED
from automl_nb.runner._status import JOB_FAILED

log = logging.getLogger("automl_nb.runner")

ENDED = (JOB_COMPLETED, JOB_FAILED, JOB_CANCELED)


def _waiting_trials(paths: JobPaths, node_rank: int, seen: set[str]) -> list[tuple[Path, dict]]:
    """Trials publishing a rendezvous with a place for ``node_rank`` not yet tried here."""
    from automl_nb.training._launch import RANKS_DIR
    from automl_nb.training._nodes import RENDEZVOUS_FILE
    from automl_nb.training._nodes import read_rendezvous

    found = []
    for record_file in sorted(paths.trials_dir.glob(f"*/{RANKS_DIR}/{RENDEZVOUS_FILE}")):
        record = read_rendezvous(record_file.parent)
        if record and record.get("id") not in seen and int(record.get("nodes", 1)) > node_rank:
            found.append((record_file.parent.parent, record))
    return found


def serve_nodes(
    job: str | os.PathLike[str],
    *,
    node_rank: int,
    workspace: str | os.PathLike[str] | None = None,
    poll: float = 1.0,
) -> str:
    """Join the job's trials as node ``node_rank`` until the job ends; return its final state.

    Raises:
        JobError: No such job in the workspace, or ``node_rank`` < 1 (node 0 is the
            controller's machine).
    """
    if node_rank < 1:
        raise JobError("--node-rank must be 1 or more: node 0 is the machine of the controller")
    from automl_nb.training._nodes import join_trial

    paths = JobPaths(find_job_dir(job, Path(workspace) if workspace else None).resolve())
    log.info("node %d of the trials of %s: waiting for a trial", node_rank, paths.root)
    seen: set[str] = set()
    while True:
        for trial_dir, record in _waiting_trials(paths, node_rank, seen):
            seen.add(record["id"])
            outcome = join_trial(trial_dir, record, node_rank)
            if outcome == "taken":
                log.info("trial %s: node %d is another worker's", trial_dir.name, node_rank)
            else:
                log.info("trial %s: node %d %s", trial_dir.name, node_rank, outcome)
        state = (read_json(paths.status_json, {}) or {}).get("status")
        if state in ENDED and not _waiting_trials(paths, node_rank, seen):
            log.info("job %s %s: node %d done", paths.job_id, state, node_rank)
            return str(state)
        time.sleep(poll)
