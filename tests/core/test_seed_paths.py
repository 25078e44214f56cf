"""Seed import paths provided by transport distributions fail with an install hint."""

from __future__ import annotations

import importlib
import sys

import pytest

from pacsys._provided import reexport

PATHS = {
    "pacsys.supervised": "pacsys-grpc",
    "pacsys.devdb": "pacsys-grpc",
    "pacsys.ssh": "pacsys-ssh",
    "pacsys.acl_session": "pacsys-ssh",
}


@pytest.mark.parametrize(("path", "distribution"), sorted(PATHS.items()))
def test_seed_path_names_its_distribution(path: str, distribution: str) -> None:
    sys.modules.pop(path, None)
    try:
        module = importlib.import_module(path)
    except ImportError as exc:
        assert f"{path} is provided by {distribution}" in str(exc)
        assert f"pip install {distribution}" in str(exc)
    else:  # the transport already provides it
        assert module.__all__


def test_reexport_copies_public_names() -> None:
    namespace = {"__name__": "pacsys.example"}
    reexport(namespace, "pacsys.backends", "pacsys-core")
    assert namespace["Backend"].__name__ == "Backend"
    assert "Backend" in namespace["__all__"]


def test_reexport_of_missing_distribution() -> None:
    with pytest.raises(ImportError, match="which is not installed: pip install pacsys-nothing"):
        reexport({"__name__": "pacsys.nothing"}, "pacsys_nothing.mod", "pacsys-nothing")
