"""The simulator catalogue: shipped content, user files, families, DevDB-shaped metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pacsys.metadata import MetadataSource
from pacsys.sim import CATALOGUE_ENV, Catalogue, CatalogueError, SimBackend, load_catalogue


def test_shipped_catalogue_has_the_promised_devices() -> None:
    cat = load_catalogue()
    for name in ("M:OUTTMP", "G:AMANDA", "Z:ACLTST", "Z:SIMWAV", "Z:SIMTXT", "Z:SIMPS", "Z:SIMRAW"):
        assert name in cat, name
    assert cat.lookup("Z:SIMWAV").reading.length == 1024
    assert cat.lookup("Z:SIMTXT").reading.kind == "text"
    assert cat.lookup("Z:SIMRAW").reading.kind == "raw"
    assert cat.lookup("M:OUTTMP").analog_alarm is not None
    assert cat.lookup("Z:SIMPS").digital_alarm is not None
    assert 0x0F in cat.clock_events and cat.clock_events[0x0F].rate_hz == 15


def test_family_is_a_pattern_of_10000_devices_not_entries() -> None:
    raw = json.loads(
        (
            Path(__file__).resolve().parents[2] / "pacsys-core/src/pacsys/sim/data/catalogue.json"
        ).read_text()
    )
    assert len(raw["devices"]) < 20
    cat = load_catalogue()
    assert len(cat) >= 10_000 + len(raw["devices"])
    assert cat.lookup("S:SIM00000") is not None
    last = cat.lookup("S:SIM09999")
    assert last is not None and last.index == 3_000_000 + 9999
    assert cat.lookup("S:SIM10000") is None
    assert cat.lookup("S:SIM0001") is None  # wrong width
    names = list(cat.names())
    assert len(names) == len(cat) and names[-1] == "S:SIM09999"


def test_device_info_is_devdb_shaped() -> None:
    cat = load_catalogue()
    assert isinstance(cat, MetadataSource)
    info = cat.device_info("z_simps")  # any qualifier, any case
    assert info is not None and info.device_index == 283924
    assert info.reading is not None and info.reading.common_units == "A"
    assert info.setting is not None and (info.setting.min_val, info.setting.max_val) == (-500, 500)
    assert {c.short_name for c in info.control} >= {"ON", "OFF", "RESET", "POS", "NEG"}
    on = next(b for b in info.status_bits if b.short_name == "On")
    assert on.is_active(0x01) and not on.is_active(0x0E)
    assert info.ext_status_bits[0].description == "Interlock"
    assert cat.device_info("M:OUTTMP").setting is None
    assert cat.device_info("M:NOPE") is None
    assert cat.device_info("not a name") is None


def test_alarm_info_and_texts() -> None:
    cat = load_catalogue()
    analog = cat.alarm_info("M:OUTTMP")
    assert analog is not None and analog.analog_alarm_text_id == 1
    assert analog.alarm_block.max_or_tol == 16384  # 100 DegF / 20 per volt * 3276.8
    digital = cat.alarm_info("Z:SIMPS")
    assert digital is not None and digital.digital_alarm_mask == 3
    assert cat.alarm_info("G:AMANDA") is None
    assert cat.alarm_text(1).text.startswith("Outdoor temperature")
    assert cat.alarm_text(999) is None


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "cat.json"
    path.write_text(json.dumps(data))
    return path


def test_user_file_adds_and_replaces(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "clock_events": [{"event": "0x12", "rate_hz": 2}],
            "devices": [
                {
                    "name": "m_outtmp",
                    "index": 1,
                    "description": "Replaced",
                    "reading": {"units": "C", "model": {"base": 20}},
                },
                {"name": "Y:MINE", "index": 2, "reading": {"kind": "text", "initial": "hi"}},
            ],
        },
    )
    cat = load_catalogue(path)
    assert cat.lookup("M:OUTTMP").description == "Replaced"
    assert cat.lookup("Y:MINE") is not None and "G:AMANDA" in cat
    assert 0x12 in cat.clock_events and 0x0F in cat.clock_events
    with SimBackend(catalogue=path) as sim:
        assert sim.read("Y:MINE") == "hi"


def test_env_var_names_the_user_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(
        tmp_path,
        {
            "include_default": False,
            "devices": [{"name": "Y:ONLY", "index": 5, "reading": {"model": {"base": 3}}}],
        },
    )
    monkeypatch.setenv(CATALOGUE_ENV, str(path))
    cat = load_catalogue()
    assert "Y:ONLY" in cat and "M:OUTTMP" not in cat and len(cat) == 1


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"devices": [{"name": "bad name", "index": 1}]}, "not a valid ACNET device name"),
        ({"devices": [{"name": "Y:A", "reading": {}}]}, "missing required key 'index'"),
        ({"devices": [{"name": "Y:A", "index": 1}]}, "needs a reading, setting or status"),
        ({"devices": [{"name": "Y:A", "index": 1, "reading": {"kind": "blob"}}]}, "kind must"),
        ({"devices": [{"name": "Y:A", "index": "x", "reading": {}}]}, "'index' must be int"),
        ({"devices": [{"name": "Y:A", "index": 1, "reading": {"colour": 1}}]}, "colour"),
        ({"clock_events": [{"event": "zz", "rate_hz": 1}]}, "must be an integer"),
        ({"clock_events": [{"event": 1, "rate_hz": 0}]}, "rate_hz must be positive"),
        ({"format": 2}, "unsupported catalogue format"),
        ({"devices": [{"name": "Y:A", "index": 1, "default_event": "zz", "reading": {}}]}, "event"),
        (
            {
                "devices": [
                    {"name": "Y:A", "index": 7, "reading": {"model": {"base": 1}}},
                    {"name": "Y:B", "index": 7, "reading": {"model": {"base": 2}}},
                ]
            },
            "device Y:B: index 7 is already Y:A's",
        ),
    ],
)
def test_bad_files_are_reported_with_their_place(
    tmp_path: Path, data: dict[str, object], words: str
) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(CatalogueError, match=words) as excinfo:
        load_catalogue(path)
    assert str(path) in str(excinfo.value)


def test_unreadable_and_invalid_json(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(CatalogueError, match="not valid JSON"):
        load_catalogue(bad)


def test_catalogue_object_can_be_passed_directly() -> None:
    cat = Catalogue.from_data(
        {"devices": [{"name": "Y:X", "index": 9, "reading": {"model": {"base": 1.5}}}]}
    )
    with SimBackend(catalogue=cat) as sim:
        assert sim.read("Y:X") == 1.5
        assert sim.catalogue is cat
