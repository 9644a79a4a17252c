"""Jobs and trials: the detached job controller, trials in background Jupyter kernels, and
the :class:`Job` handle used by the CLI and the notebook layer.

Example:
    >>> from automl_nb.runner import submit, get_job  # doctest: +SKIP
    >>> job = submit("job.yml")  # returns at once  # doctest: +SKIP
    >>> [t.state for t in get_job(job.id).trials()]  # doctest: +SKIP
"""

from __future__ import annotations

from automl_nb.runner._job import Job
from automl_nb.runner._job import TrialInfo
from automl_nb.runner._job import get_job
from automl_nb.runner._job import list_jobs
from automl_nb.runner._job import prepare_job_dir
from automl_nb.runner._job import run_job
from automl_nb.runner._job import submit
from automl_nb.runner._layout import default_workspace
from automl_nb.runner._worker import run_trial_in_kernel

__all__ = [
    "Job",
    "TrialInfo",
    "default_workspace",
    "get_job",
    "list_jobs",
    "prepare_job_dir",
    "run_job",
    "run_trial_in_kernel",
    "submit",
]
