"""ACNET status codes against tests/vectors/acnet_errors.json (all 216 named codes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pacsys.acnet as acnet
from pacsys.acnet import AcnetFacility

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "acnet_errors.json").read_text()
)
CODES = VECTORS["codes"]


def test_vector_file_has_every_code() -> None:
    assert VECTORS["count"] == len(CODES) == 216
    assert len(acnet.status.CODES) == 216


@pytest.mark.parametrize("code", CODES, ids=[c["name"] for c in CODES])
def test_named_code(code: dict) -> None:
    assert getattr(acnet, code["name"]) == code["composite"]
    assert acnet.make_error(code["facility"], code["error"]) == code["composite"]
    assert acnet.make_error(code["facility"], code["error"]) & 0xFFFF == code["status_u16"]
    assert f"0x{code['status_u16']:04X}" == code["status_hex"]
    for form in (code["composite"], code["status_u16"]):
        assert acnet.parse_error(form) == (code["facility"], code["error"])
    assert acnet.status_message(code["facility"], code["error"]) == code["status_message"]
    found = acnet.lookup_name(code["name"])
    assert (found.facility, found.error, found.meaning) == (
        code["facility"],
        code["error"],
        code["meaning"],
    )
    assert acnet.lookup(code["facility"], code["error"]).name == code["name"]
    if code["ftp_message"] is not None:
        assert acnet.ftp_status_message(code["composite"]) == code["ftp_message"]


@pytest.mark.parametrize("case", VECTORS["status_message_fallbacks"])
def test_status_message_fallbacks(case: dict) -> None:
    assert acnet.status_message(case["facility"], case["error"]) == case["result"]


@pytest.mark.parametrize("case", VECTORS["ftp_status_message_fallbacks"])
def test_ftp_status_message_fallbacks(case: dict) -> None:
    assert acnet.ftp_status_message(case["composite"]) == case["result"]


@pytest.mark.parametrize("case", VECTORS["normalize_error_code_examples"])
def test_normalize_error_code(case: dict) -> None:
    assert acnet.normalize_error_code(case["input"]) == case["result"]


def test_facilities_constants_and_aliases() -> None:
    assert {f["name"]: f["code"] for f in VECTORS["facilities"]} == {
        f.name: f.value for f in AcnetFacility
    }
    for name, value in VECTORS["decomposed_constants"].items():
        assert getattr(acnet, name) == value
    for alias in VECTORS["aliases"]:
        assert getattr(acnet, alias["name"]) == alias["value"]


def test_spec_examples() -> None:
    assert acnet.make_error(1, -6) == -1535 and -1535 & 0xFFFF == 0xFA01
    assert (
        acnet.parse_error(-1535) == acnet.parse_error(0xFA01) == acnet.parse_error(64001) == (1, -6)
    )
    assert acnet.make_error(17, 1) == 273
    assert acnet.make_error(16, -13) == -3312
    assert acnet.status_message(17, 0) is None
    assert acnet.status_message(14, -1) == "DIO_MEMFAIL: error (facility=14, error=-1)"
    assert acnet.make_error(1, -6) & 0xFFFF == 0xFA01
    assert acnet.make_error(17, 1) & 0xFFFF == 0x0111
    assert acnet.make_error(16, -13) & 0xFFFF == 0xF310
    with pytest.raises(KeyError, match="NOPE"):
        acnet.lookup_name("NOPE")


@pytest.mark.parametrize(
    ("facility", "error", "text"),
    [
        (17, -17, "DPM_PRIV: insufficient privileges for setting (facility=17, error=-17)"),
        (1, 2, "ACNET_ENDMULT: warning (facility=1, error=2)"),
        (14, -1, "DIO_MEMFAIL: error (facility=14, error=-1)"),
        (17, -99, "Device error (facility=17, error=-99)"),
        (15, -13, "Device error (facility=15, error=-13)"),
        (15, 1, "Warning (facility=15, error=1)"),
        (72, 0, None),
        (16, -13, "DBM_NOPROP: property not found (facility=16, error=-13)"),
    ],
)
def test_status_message_spec_examples(facility: int, error: int, text: str | None) -> None:
    assert acnet.status_message(facility, error) == text


@pytest.mark.parametrize("code", CODES, ids=[c["name"] for c in CODES])
def test_status_code_record(code: dict) -> None:
    found = acnet.CODES[code["name"]]
    assert found.composite == code["composite"]
    assert found.status_u16 == code["status_u16"]
    assert found.severity == code["severity"]
    assert (found.description, found.ftp_message) == (code["description"], code["ftp_message"])
    assert AcnetFacility(found.facility).name == code["facility_name"]
    if code["facility"] == acnet.FACILITY_FTP:
        # the 16-bit wire form is decoded too
        assert acnet.ftp_status_message(code["status_u16"]) == code["ftp_message"]
    else:
        assert acnet.ftp_status_message(code["composite"]) == (
            f"non-FTP status (facility={code['facility']}, error={code['error']})"
        )


def test_table_order_and_lookup_details() -> None:
    assert list(acnet.CODES) == [c["name"] for c in CODES]
    assert acnet.lookup_name("dpm_priv") is acnet.CODES["DPM_PRIV"]
    assert acnet.lookup(17, -99) is None
    assert acnet.lookup(15, 0) is None
    assert acnet.lookup(72, 0).name == "DMQ_OK"
    assert acnet.status.lookup(1, -6).name == "ACNET_REQTMO"


def test_named_constants_are_plain_module_ints() -> None:
    from pacsys.acnet import ACNET_REQTMO, DPM_NO_SUCH_DEVICE, FACILITY_DPM

    assert (ACNET_REQTMO, DPM_NO_SUCH_DEVICE, FACILITY_DPM) == (-1535, -6639, 17)
    assert type(acnet.DPM_PEND) is int and acnet.DPM_PEND == 273
    assert "DPM_PRIV" in acnet.__all__ and "DPM_PRIV" in acnet.status.__all__
    assert "DPM_PRIV" in dir(acnet)
    assert not hasattr(acnet, "DPM_NOT_A_CODE")
    with pytest.raises(AttributeError, match="DPM_NOT_A_CODE"):
        _ = acnet.status.DPM_NOT_A_CODE
    namespace: dict[str, object] = {}
    exec("from pacsys.acnet import *", namespace)
    assert namespace["DAE_LJ_NO_DATA"] == -16318
    assert namespace["AcnetFacility"] is AcnetFacility


def test_facility_constants_match_enum() -> None:
    for facility in AcnetFacility:
        assert getattr(acnet, f"FACILITY_{facility.name}") == facility.value
    assert AcnetFacility(72) is AcnetFacility.DMQ
    assert acnet.ACNET_OK == acnet.ACNET_SUCCESS == acnet.ERR_OK == 0


def test_pack_unpack_every_pair() -> None:
    """Exhaustive: every facility and signed error byte survives both encodings."""
    for facility in range(1, 256):
        for error in range(-128, 128):
            composite = acnet.make_error(facility, error)
            assert acnet.parse_error(composite) == (facility, error)
            u16 = composite & 0xFFFF
            assert u16 == ((error & 0xFF) << 8) | facility
            assert acnet.parse_error(u16) == (facility, error)


def test_normalize_error_code_range() -> None:
    assert [acnet.normalize_error_code(v) for v in range(256)] == [
        *range(128),
        *range(-128, 0),
    ]
    assert acnet.normalize_error_code(-6) == -6


def test_data_file_is_package_data() -> None:
    from importlib import resources

    data = json.loads(resources.files("pacsys.acnet").joinpath("codes.json").read_text())
    assert len(data["codes"]) == 216
