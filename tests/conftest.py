"""Shared fixtures: paths to the repository, the shared reference data, and law helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def pytest_configure(config):
    import os

    pass


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not available")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _program_store_per_test():
    """A test that runs the CLI in this process turns the traced-program store on (as the
    CLI does); switch it back afterwards, so that later library fits in the session are
    not charged for exporting programs nobody will load."""
    from lawkit.backends import programs

    before = programs._STATE["dir"]
    yield
    programs.use_directory(before)
