"""Shared test fixtures: where the conformance vectors live, isolated pacsys global state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
VECTORS_DIR = REPO_ROOT.parent / "shared" / "vectors"


def load_vectors(name: str) -> Any:
    """Load ``../shared/vectors/<name>`` (the byte-exact conformance vectors)."""
    with (VECTORS_DIR / name).open(encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture
def clean_pacsys() -> Iterator[None]:
    """Run a test with default settings and no global backend, restoring both afterwards."""
    from pacsys import _simple

    saved = _simple._settings
    _simple.shutdown()
    _simple._settings = _simple.Settings(environment={})
    try:
        yield
    finally:
        _simple.shutdown()
        _simple._settings = saved
