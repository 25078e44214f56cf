"""ACNET protocol exceptions (docs/protocols/semantics.md §2.4): status, str, repr, pickling."""

from __future__ import annotations

import pickle

import pytest

import pacsys.acnet as acnet
import pacsys.errors
from pacsys.acnet.errors import (
    AcnetError,
    AcnetNodeError,
    AcnetRequestRejectedError,
    AcnetTaskError,
    AcnetTimeoutError,
    AcnetUnavailableError,
)
from pacsys.errors import PacsysError

REJECTED = (
    "ACNET error [1 -25]: request to task 'DPMD' rejected by acnetd "
    "(task is on the TCP reject list, see acnetd -r flag)"
)
CASES = [
    (AcnetError(acnet.DPM_PRIV, "no"), "ACNET error [17 -17]: no", (17, -17)),
    (AcnetError(acnet.DPM_PRIV), "ACNET error [17 -17]", (17, -17)),
    (AcnetUnavailableError(), "ACNET error [1 -21]: ACNET daemon unavailable", (1, -21)),
    (AcnetTimeoutError(500), "ACNET error [1 -6]: timeout after 500ms", (1, -6)),
    (AcnetTimeoutError(), "ACNET error [1 -6]: timeout", (1, -6)),
    (AcnetNodeError("CLX1"), "ACNET error [1 -30]: node not found: CLX1", (1, -30)),
    (AcnetTaskError("DPMD"), "ACNET error [1 -33]: task not found: DPMD", (1, -33)),
    (AcnetRequestRejectedError("DPMD"), REJECTED, (1, -25)),
]
IDS = [f"{type(c[0]).__name__}-{i}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize(("exc", "text", "pair"), CASES, ids=IDS)
def test_str_status_and_repr(exc: AcnetError, text: str, pair: tuple[int, int]) -> None:
    assert str(exc) == text
    assert (exc.facility, exc.error_number) == pair
    assert exc.status == acnet.make_error(*pair)
    assert repr(exc) == f"{type(exc).__name__}(facility={pair[0]}, error={pair[1]})"
    assert isinstance(exc, AcnetError) and isinstance(exc, PacsysError)


@pytest.mark.parametrize(("exc", "text", "pair"), CASES, ids=IDS)
def test_pickle_round_trip(exc: AcnetError, text: str, pair: tuple[int, int]) -> None:
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc)
    assert str(back) == text
    assert vars(back) == vars(exc)


def test_status_kept_as_given() -> None:
    """A 16-bit status decodes like the composite but is stored unchanged."""
    exc = AcnetError(0xEF11, "denied")
    assert exc.status == 0xEF11
    assert (exc.facility, exc.error_number, exc.message) == (17, -17, "denied")
    assert repr(exc) == "AcnetError(facility=17, error=-17)"


def test_specific_attributes() -> None:
    assert AcnetTimeoutError(250).timeout_ms == 250
    assert AcnetTimeoutError().timeout_ms is None
    assert AcnetNodeError("CLX1").node == "CLX1"
    assert AcnetTaskError("DPMD").task == "DPMD"
    assert AcnetRequestRejectedError("DPMD").task == "DPMD"
    assert AcnetUnavailableError().status == acnet.ACNET_NOT_CONNECTED


def test_raise_and_catch_as_library_error() -> None:
    with pytest.raises(PacsysError, match=r"\[1 -6\]"):
        raise AcnetTimeoutError(10)


def test_reexported_from_package_and_errors_module() -> None:
    for name in ("AcnetError", "AcnetTimeoutError", "AcnetRequestRejectedError"):
        assert getattr(acnet, name) is getattr(pacsys.errors, name)
    assert "AcnetError" in pacsys.errors.__all__
    with pytest.raises(AttributeError):
        _ = pacsys.errors.AcnetNothing
