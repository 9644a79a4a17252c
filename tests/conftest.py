"""Shared fixtures: the real datasets beside the repo, and an offline environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Pretrained weights cannot be downloaded in tests; fail fast instead of retrying.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (the real datasets); the test is skipped where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


def shared_dataset(name: str) -> Path:
    """Path of one dataset under ``../shared/data``, skipping the test if it is missing."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"../shared/data/{name} is not present")
    return path
