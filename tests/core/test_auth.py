"""JWTAuth and KerberosAuth: secrets stay secret, Kerberos fails fast, lazy gssapi import."""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys

import pytest

import pacsys
from pacsys.auth import JWTAuth, KerberosAuth, jwt_from_environment
from pacsys.errors import AuthenticationError
from pacsys.registry import get_registry


def make_token(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.c2lnbmF0dXJl"


SECRET = make_token({"sub": "operator@FNAL.GOV", "exp": 1})


def test_jwt_principal_and_secret_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    auth = JWTAuth(token=SECRET)
    assert auth.principal == "operator@FNAL.GOV"
    assert SECRET not in repr(auth) and SECRET not in str(auth)
    assert repr(auth) == "JWTAuth(token=<redacted>)"
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("pacsys.test").info("auth is %r / %s", auth, auth)
    assert SECRET not in caplog.text


@pytest.mark.parametrize("token", ["not-a-jwt", "a.!!!.c", make_token({"no": "sub"})])
def test_invalid_tokens_fail_without_leaking(token: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        _ = JWTAuth(token=token).principal
    assert token not in str(excinfo.value)


def test_jwt_validation_and_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        JWTAuth(token="  ")
    monkeypatch.delenv("PACSYS_JWT_TOKEN", raising=False)
    assert JWTAuth.from_env() is None
    with pytest.raises(AuthenticationError, match="PACSYS_JWT_TOKEN is not set"):
        jwt_from_environment()
    monkeypatch.setenv("PACSYS_JWT_TOKEN", SECRET)
    assert JWTAuth.from_env() == JWTAuth(token=SECRET)
    monkeypatch.setenv("MY_TOKEN", SECRET)
    assert JWTAuth.from_env("MY_TOKEN").principal == "operator@FNAL.GOV"


def test_kerberos_without_ticket_fails_fast(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{tmp_path / 'no-such-cache'}")
    monkeypatch.setenv("KRB5_CONFIG", str(tmp_path / "krb5.conf"))
    (tmp_path / "krb5.conf").write_text("[libdefaults]\n default_realm = FNAL.GOV\n")
    with pytest.raises(AuthenticationError, match="No valid Kerberos ticket"):
        KerberosAuth()
    with pytest.raises(AuthenticationError, match=r"user@FNAL\.GOV"):
        KerberosAuth(name="user@FNAL.GOV")
    with pytest.raises(ValueError, match="non-empty"):
        KerberosAuth(name="")


def test_gssapi_is_imported_only_when_kerberos_is_constructed() -> None:
    code = (
        "import sys, pacsys, pacsys.auth; "
        "print('gssapi' in sys.modules); "
        "pacsys.KerberosAuth.__init__; print('gssapi' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_auth_methods_are_offered_through_the_hook() -> None:
    methods = get_registry().auth_methods()
    assert methods["kerberos"].aliases == ("krb",)
    assert methods["kerberos"].class_name == "KerberosAuth"
    assert methods["jwt"].load() is jwt_from_environment


@pytest.mark.usefixtures("clean_pacsys")
def test_configure_auth_krb_shortcut_builds_kerberos_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    built = []

    class StubKerberos(pacsys.Auth):
        kind = "kerberos"

        def __init__(self) -> None:
            built.append(self)

        @property
        def principal(self) -> str:
            return "stub@FNAL.GOV"

    spec = get_registry().auth_method("krb")
    monkeypatch.setattr(type(spec), "load", lambda self: StubKerberos)
    monkeypatch.setattr(
        pacsys._simple, "_check_combination", lambda settings, explicit_backend: None
    )
    pacsys.configure(auth="krb")
    assert len(built) == 1
    assert pacsys._simple.current_settings().value("auth") is built[0]
