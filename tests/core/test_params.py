"""The shared argument checks and environment readers: one wording for every transport."""

from __future__ import annotations

from pathlib import Path

import pytest

from pacsys.backends.params import (
    check_host,
    check_port,
    check_positive_int,
    env_choice,
    env_flag,
    env_int,
    env_str,
)


@pytest.mark.parametrize("bad", [0, 65536, -1, True, 80.0, "80", None])
def test_check_port_names_the_argument_and_value(bad: object) -> None:
    with pytest.raises(
        ValueError, match=rf"^port must be an integer from 1 to 65535, got {bad!r}$"
    ):
        check_port(bad)


def test_check_port_accepts_the_range_and_zero_only_for_servers() -> None:
    assert check_port(1) == 1 and check_port(65535) == 65535
    assert check_port(0, "local_port", lowest=0) == 0
    with pytest.raises(ValueError, match=r"^remote_port must be an integer from 1 to 65535"):
        check_port(0, "remote_port")


def test_check_host_and_positive_int() -> None:
    assert check_host("example.org") == "example.org"
    for bad in ("", "  ", None, 5):
        with pytest.raises(ValueError, match=r"^hostname must be a non-empty string, got"):
            check_host(bad, "hostname")
    assert check_positive_int(3, "pool_size") == 3
    for bad in (0, -2, True, 1.5):
        with pytest.raises(ValueError, match=r"^pool_size must be a positive integer, got"):
            check_positive_int(bad, "pool_size")


def test_environment_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PACSYS_TEST_VAR", raising=False)
    assert env_str("PACSYS_TEST_VAR", "dflt") == "dflt"
    assert env_int("PACSYS_TEST_VAR", 7) == 7
    assert env_flag("PACSYS_TEST_VAR") is False
    assert env_choice("PACSYS_TEST_VAR", {"1": True, "0": False}, True) is True
    monkeypatch.setenv("PACSYS_TEST_VAR", " 42 ")
    assert env_str("PACSYS_TEST_VAR", "dflt") == "42"
    assert env_int("PACSYS_TEST_VAR", 7) == 42
    monkeypatch.setenv("PACSYS_TEST_VAR", "On")
    assert env_flag("PACSYS_TEST_VAR") is True
    with pytest.raises(
        ValueError, match=r"^Environment variable PACSYS_TEST_VAR must be an integer, got 'On'$"
    ):
        env_int("PACSYS_TEST_VAR", 7)
    with pytest.raises(ValueError, match="PACSYS_TEST_VAR must be one of '1', '0', got 'On'"):
        env_choice("PACSYS_TEST_VAR", {"1": True, "0": False}, True)
    monkeypatch.setenv("PACSYS_TEST_VAR", "")
    assert env_str("PACSYS_TEST_VAR", "dflt") == "dflt"


def test_server_args_are_checked_with_their_names(tmp_path: Path) -> None:
    from pacsys.backends.server_args import check_server_args
    from pacsys.testing import FakeBackend

    fake = FakeBackend()
    assert check_server_args(fake, None, 1, io_timeout=0.5) is None
    keytab = tmp_path / "server.keytab"
    keytab.write_bytes(b"\x05\x02")
    assert check_server_args(fake, str(keytab), 1) == keytab
    with pytest.raises(TypeError, match="backend must be a pacsys Backend, got object"):
        check_server_args(object(), None, 1)
    with pytest.raises(ValueError, match=r"io_timeout must be positive, got nan"):
        check_server_args(fake, None, 1, io_timeout=float("nan"))
    with pytest.raises(ValueError, match=r"stream_buffer must be a positive int \(bytes\)"):
        check_server_args(fake, None, True)
    with pytest.raises(FileNotFoundError, match="Kerberos keytab not found"):
        check_server_args(fake, tmp_path / "missing.keytab", 1)
