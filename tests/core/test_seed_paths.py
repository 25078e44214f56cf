"""Seed import paths provided by transport distributions fail with an install hint."""

from __future__ import annotations

import importlib
import sys

import pytest

from pacsys._provided import reexport

# seed path -> (the distribution providing it, its top-level package)
PATHS = {
    "pacsys.supervised": ("pacsys-grpc", "pacsys_grpc"),
    "pacsys.devdb": ("pacsys-grpc", "pacsys_grpc"),
    "pacsys.ssh": ("pacsys-ssh", "pacsys_ssh"),
    "pacsys.acl_session": ("pacsys-ssh", "pacsys_ssh"),
}


@pytest.mark.parametrize(("path", "provider"), sorted(PATHS.items()))
def test_seed_path_names_its_distribution(
    monkeypatch: pytest.MonkeyPatch, path: str, provider: tuple[str, str]
) -> None:
    """Without its provider (not installed here, or blocked), the path says what to install."""
    distribution, package = provider
    for name in [path, *(m for m in sys.modules if m.startswith(f"{package}."))]:
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setitem(sys.modules, package, None)  # importing the provider fails
    with pytest.raises(ImportError) as excinfo:
        importlib.import_module(path)
    assert f"{path} is provided by {distribution}, which is " in str(excinfo.value)
    assert str(excinfo.value).endswith(f": pip install {distribution}")


def test_reexport_copies_public_names() -> None:
    namespace = {"__name__": "pacsys.example"}
    reexport(namespace, "pacsys.backends", "pacsys-core")
    assert namespace["Backend"].__name__ == "Backend"
    assert "Backend" in namespace["__all__"]


def test_reexport_of_missing_distribution() -> None:
    with pytest.raises(ImportError, match="which is not installed: pip install pacsys-nothing"):
        reexport({"__name__": "pacsys.nothing"}, "pacsys_nothing.mod", "pacsys-nothing")
