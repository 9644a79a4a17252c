"""Optuna storage for a job: a journal file in the job folder, or a shared database URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def open_storage(url: str | None, *, journal: Path) -> Any:
    """Open the study storage.

    Args:
        url: ``None`` for the default journal file; ``journal:<path>`` for another journal
            file; otherwise an SQLAlchemy URL (``sqlite:///…``, ``postgresql://…``,
            ``mysql+pymysql://…``) shared with workers on other machines.
        journal: The job's default journal file (``<job>/optuna.log``).

    Returns:
        An Optuna storage object.
    """
    import optuna
    from optuna.storages.journal import JournalFileBackend
    from optuna.storages.journal import JournalStorage

    if url is None or url.startswith("journal:"):
        path = journal if url is None else Path(url.split(":", 1)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        # Journal files are safe for several processes through file locks, with no server.
        return JournalStorage(JournalFileBackend(str(path)))
    try:
        return optuna.storages.RDBStorage(url, heartbeat_interval=None)
    except ImportError as exc:
        from automl_nb.errors import JobError

        hint = " (pip install 'automl-nb[postgres]')" if url.startswith("postgresql") else ""
        raise JobError(
            f"storage {describe_storage(url, journal=journal)}: its database driver is not "
            f"installed{hint}: {exc}"
        ) from exc


def describe_storage(url: str | None, *, journal: Path) -> str:
    """A short human form of the storage location (never shows a password)."""
    if url is None:
        return f"journal:{journal}"
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
