"""What the notebook remembers between cells: the job draft, the last job, open dashboards.

One state per Python process (one notebook kernel). The magics and the Python API share it:
``current_draft()`` is the draft that ``%%automl_vision config`` cells merge into.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from automl_nb.config import JobDraft


class NotebookState:
    """The draft being built, the job submitted last, and the dashboards showing jobs."""

    def __init__(self) -> None:
        self.draft: JobDraft = JobDraft()
        self.last_job_dir: Path | None = None
        self.dashboards: list[Any] = []

    def stop_dashboards(self) -> None:
        """Stop every dashboard's watcher thread (the widgets stay, frozen)."""
        for dashboard in self.dashboards:
            dashboard.stop()
        self.dashboards.clear()


STATE = NotebookState()
_SETTINGS: Any = None


def current_draft() -> JobDraft:
    """The job draft that ``%automl_vision new`` starts and ``config`` cells merge into.

    It is a :class:`automl_nb.config.JobDraft`, so magics and Python mix freely::

        draft = current_draft()
        draft.merge({"training_parameters": {"number_of_epochs": EPOCHS}})
        spec = draft.spec  # a JobSpec, once complete

    Returns:
        The current draft (an empty one before ``new``).
    """
    return STATE.draft


def set_draft(draft: JobDraft | str | os.PathLike[str] | None) -> JobDraft:
    """Replace the current draft: a :class:`JobDraft`, a job YAML path, or None (empty).

    Returns:
        The new current draft.
    """
    if draft is None:
        draft = JobDraft()
    elif not isinstance(draft, JobDraft):
        text = Path(draft).read_text(encoding="utf-8")
        draft = JobDraft().merge(text, source=os.fspath(draft))
    STATE.draft = draft
    return draft


def last_job() -> Any:
    """The job submitted last from this kernel (a :class:`automl_nb.runner.Job`), or None."""
    if STATE.last_job_dir is None:
        return None
    from automl_nb.runner import Job

    return Job(STATE.last_job_dir)


def remember_job(job: Any) -> None:
    """Make ``job`` the default JOB of ``status``, ``trials``, ``dashboard``, ``best``..."""
    STATE.last_job_dir = Path(job.dir)


def settings() -> Any:
    """The ``AutoMLVision`` options in effect (``%config AutoMLVision.<option>``).

    When the extension is not loaded (plain Python), a default instance is used.
    """
    global _SETTINGS
    if _SETTINGS is None:
        from automl_nb.notebook._magics import AutoMLVision

        _SETTINGS = AutoMLVision(shell=None)
    return _SETTINGS


def set_settings(instance: Any) -> None:
    """Make ``instance`` (the loaded magics) the source of the options."""
    global _SETTINGS
    _SETTINGS = instance
