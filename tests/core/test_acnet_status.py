"""ACNET status codes against ../shared/vectors/acnet_errors.json (all 216 named codes)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

import pacsys.acnet as acnet
from pacsys.acnet import (
    AcnetError,
    AcnetFacility,
    AcnetNodeError,
    AcnetRequestRejectedError,
    AcnetTaskError,
    AcnetTimeoutError,
    AcnetUnavailableError,
)
from pacsys.errors import PacsysError

VECTORS = json.loads(
    (Path(__file__).resolve().parents[3] / "shared" / "vectors" / "acnet_errors.json").read_text()
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
    with pytest.raises(KeyError, match="NOPE"):
        acnet.lookup_name("NOPE")


@pytest.mark.parametrize(
    ("exc", "text", "pair"),
    [
        (AcnetError(acnet.DPM_PRIV, "no"), "ACNET error [17 -17]: no", (17, -17)),
        (AcnetError(acnet.DPM_PRIV), "ACNET error [17 -17]", (17, -17)),
        (AcnetUnavailableError(), "ACNET error [1 -21]: ACNET daemon unavailable", (1, -21)),
        (AcnetTimeoutError(500), "ACNET error [1 -6]: timeout after 500ms", (1, -6)),
        (AcnetTimeoutError(), "ACNET error [1 -6]: timeout", (1, -6)),
        (AcnetNodeError("CLX1"), "ACNET error [1 -30]: node not found: CLX1", (1, -30)),
        (AcnetTaskError("DPMD"), "ACNET error [1 -33]: task not found: DPMD", (1, -33)),
        (
            AcnetRequestRejectedError("DPMD"),
            "ACNET error [1 -25]: request to task 'DPMD' rejected by acnetd (task is on the TCP "
            "reject list, see acnetd -r flag)",
            (1, -25),
        ),
    ],
)
def test_protocol_exceptions(exc: AcnetError, text: str, pair: tuple[int, int]) -> None:
    assert str(exc) == text
    assert (exc.facility, exc.error_number) == pair
    assert isinstance(exc, PacsysError)
    assert repr(exc).endswith(f"(facility={pair[0]}, error={pair[1]})")


def test_acnet_error_repr_and_task_attribute() -> None:
    assert repr(AcnetError(acnet.DPM_PRIV)) == "AcnetError(facility=17, error=-17)"
    assert AcnetRequestRejectedError("DPMD").task == "DPMD"
    assert pickle.loads(pickle.dumps(AcnetError(acnet.DPM_PRIV, "x"))).status == acnet.DPM_PRIV
