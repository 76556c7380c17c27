"""Shared fixtures: the read-only reference folder ``../shared`` beside the repository."""

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``<repo>/../shared``; tests that need it are skipped where it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"reference folder {SHARED} not present (it sits beside the repository in CI)")
    return SHARED
