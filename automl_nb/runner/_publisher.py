"""Publishing ``best_model/``: a copy of the best completed trial's ``model/`` folder.

The copy is staged next to the job's ``best_model/`` and swapped in by renames, so a reader
(or a crash) never sees half a model folder: at any moment ``best_model/`` is the previous
complete copy, the new complete copy, or (for an instant between two renames) absent, and a
controller that resumes publishes again whatever the storage says is best.
"""

from __future__ import annotations

import logging
import secrets
import shutil
from pathlib import Path

from automl_nb.runner._layout import JobPaths

log = logging.getLogger("automl_nb.runner")

# Names of the staging folders next to best_model/ (stale ones are removed on resume).
STAGING_PREFIX = ".best_model."
# Written into best_model/: the number of the trial it was copied from.
TRIAL_FILE = "TRIAL"
# best_model/ is complete when its model folder's settings are there.
COMPLETE_MARKER = "settings.json"


class BestModelPublisher:
    """Copies a trial's model folder to the job's ``best_model/`` atomically.

    Args:
        paths: The job folder.
    """

    def __init__(self, paths: JobPaths) -> None:
        self.paths = paths

    def published_trial(self) -> int | None:
        """The trial ``best_model/`` was copied from, or None when there is no complete copy."""
        folder = self.paths.best_model
        if not (folder / COMPLETE_MARKER).exists():
            return None
        try:
            return int((folder / TRIAL_FILE).read_text(encoding="utf-8").strip())
        except (FileNotFoundError, ValueError):
            return None

    def publish(self, number: int, model_dir: Path | None = None) -> Path | None:
        """Make ``best_model/`` a copy of ``model_dir`` (default: trial ``number``'s model).

        Returns:
            ``best_model/``, or None when the trial has no model folder.
        """
        source = (
            Path(model_dir) if model_dir is not None else self.paths.trial_dir(number) / "model"
        )
        if not source.is_dir():
            log.warning(
                "trial %d has no model folder at %s; best_model/ not updated", number, source
            )
            return None
        token = secrets.token_hex(3)
        staging = self.paths.root / f"{STAGING_PREFIX}{token}.tmp"
        retired = self.paths.root / f"{STAGING_PREFIX}{token}.old"
        shutil.copytree(source, staging)
        (staging / TRIAL_FILE).write_text(str(number), encoding="utf-8")
        target = self.paths.best_model
        if target.exists():
            target.rename(retired)
        staging.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
        log.info("best_model/ is now trial %d's model", number)
        return target

    def ensure(self, number: int | None) -> Path | None:
        """Publish trial ``number`` unless ``best_model/`` already holds it (or it is None)."""
        if number is None or self.published_trial() == number:
            return self.paths.best_model if number is not None else None
        return self.publish(number)

    def remove_stale_staging(self) -> list[Path]:
        """Remove staging folders left by a publisher that was killed; returns them."""
        stale = sorted(self.paths.root.glob(f"{STAGING_PREFIX}*"))
        for folder in stale:
            shutil.rmtree(folder, ignore_errors=True)
        return stale
