"""pacsys-acnet is installed as a plugin, and ``pacsys.acnet`` resolves its names lazily."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import pacsys.acnet


def test_core_resolves_transport_names() -> None:
    import pacsys_acnet

    assert pacsys.acnet.encode is pacsys_acnet.encode
    assert pacsys.acnet.encode("DPM") == 0x1B8D
    assert pacsys.acnet.ACNET_HEADER_SIZE == 18
    # the core names stay core's
    assert pacsys.acnet.ACNET_REQTMO == -1535
    assert set(pacsys_acnet.__all__) <= pacsys.acnet._PROVIDED | {"AcnetBackend", "AcnetServer"}


def test_unknown_name_is_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        pacsys.acnet.Nope  # noqa: B018


def test_missing_distribution_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pacsys_acnet", None)  # import fails as if not installed
    for name in ("RetdatClient", "FTPClient"):  # names resolved earlier stay cached
        monkeypatch.delitem(pacsys.acnet.__dict__, name, raising=False)
    with pytest.raises(ImportError, match="pip install pacsys-acnet"):
        pacsys.acnet.RetdatClient  # noqa: B018
    with pytest.raises(ImportError, match="pip install pacsys-acnet"):
        exec("from pacsys.acnet import FTPClient", {})


@pytest.mark.parametrize("name", ["rad50", "constants"])
def test_submodules_resolve(name: str) -> None:
    module = importlib.import_module(f"pacsys.acnet.{name}")
    assert module.__all__


def test_import_pacsys_loads_nothing_of_acnet() -> None:
    code = "import sys, pacsys; print(sorted(m for m in sys.modules if 'acnet' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plugin_is_registered() -> None:
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="pacsys")}
    assert names["acnet"] == "pacsys_acnet.plugin"
