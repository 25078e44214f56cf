"""ACL over SSH end to end: the ``acl`` program (ACL interpreter over the simulator) on sshd."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from pacsys.errors import ACLError
from pacsys_ssh.acl_session import ACLSession, clean_acl_output
from pacsys_ssh.client import SSHClient
from pacsys_ssh.errors import SSHError

SCALAR = re.compile(r"^M:OUTTMP {7}= +-?\d+\.\d+ DegF$")


@contextlib.contextmanager
def _broken_acl(ssh_lab: Any, script: str) -> Iterator[None]:
    """Replace the lab's ``acl`` program by the shell ``script`` for the block."""
    real = ssh_lab.bin_dir / "acl"
    shadow = ssh_lab.bin_dir / "acl.real"
    real.rename(shadow)
    try:
        real.write_text(script)
        real.chmod(0o755)
        yield
    finally:
        shadow.replace(real)


def _temp_files(ssh: SSHClient) -> list[str]:
    return ssh.exec("ls /tmp | grep '^pacsys_acl_' || true", timeout=10).stdout.split()


def test_clean_acl_output() -> None:
    transcript = "\nACL> read M:OUTTMP; read G:AMANDA\n\nA = 1\n\nB = 2\n\nACL> \n"
    assert clean_acl_output(transcript) == "A = 1\n\nB = 2"
    assert clean_acl_output("\nACL> set x 1\n\nACL> \n") == ""


def test_one_shot_read(client: SSHClient) -> None:
    before = _temp_files(client)
    text = client.acl("read M:OUTTMP")
    assert SCALAR.match(text), text
    assert _temp_files(client) == before  # the script file was removed


def test_one_shot_several_lines_share_variables(client: SSHClient) -> None:
    text = client.acl(["x = 40", "y = x + 2", "print y", "read M:OUTTMP; read G:AMANDA"])
    blocks = [line for line in text.splitlines() if line]
    assert blocks[0] == "42"
    assert SCALAR.match(blocks[1])
    assert blocks[2].startswith("G:AMANDA")


def test_one_shot_inline_error_is_returned(client: SSHClient) -> None:
    before = _temp_files(client)
    text = client.acl(["read M:OUTTMP", "read Z:NOTFND", "read G:AMANDA"])
    first, error = [line for line in text.splitlines() if line]
    assert SCALAR.match(first)
    assert error.endswith("DBM_NOREC")
    assert "G:AMANDA" not in text  # the script stopped at the failing line
    assert _temp_files(client) == before


def test_one_shot_validation(client: SSHClient) -> None:
    with pytest.raises(ValueError, match="command list must not be empty"):
        client.acl([])


def test_one_shot_failure_without_output_raises(client: SSHClient, ssh_lab) -> None:
    # an "acl" that fails with stderr only
    with _broken_acl(ssh_lab, "#!/bin/sh\necho 'acl: license expired' >&2\nexit 2\n"):
        with pytest.raises(ACLError, match="ACL script failed: acl: license expired"):
            client.acl("read M:OUTTMP")


def test_session_reads_and_echo_stripping(client: SSHClient) -> None:
    with client.acl_session(timeout=20) as acl:
        assert repr(acl) == "ACLSession(open)"
        assert SCALAR.match(acl.send("read M:OUTTMP"))
        assert acl.send("set x 1") == ""
        assert acl.send("x = 5; print x") == "5"
        # no state survives between sends
        assert "x" in acl.send("print x")
        assert acl.send("read Z:NOTFND").endswith("DBM_NOREC")
        with pytest.raises(ValueError, match="one line"):
            acl.send("read M:OUTTMP\nread G:AMANDA")
        assert acl.send("read G:AMANDA").startswith("G:AMANDA")
    assert acl.closed
    with pytest.raises(ACLError, match="ACL session is closed"):
        acl.send("read M:OUTTMP")
    # closing the session leaves the client usable
    assert client.exec("echo up", timeout=10).stdout == "up\n"


def test_several_sessions_on_one_client(client: SSHClient) -> None:
    sessions = [ACLSession(client, timeout=20) for _ in range(3)]
    try:
        for session in sessions:
            assert SCALAR.match(session.send("read M:OUTTMP"))
    finally:
        for session in sessions:
            session.close()


def test_session_process_exit_closes_session(client: SSHClient) -> None:
    acl = client.acl_session(timeout=20)
    with pytest.raises(ACLError, match="Process exited while waiting for marker"):
        acl.send("exit")
    assert acl.closed


def test_session_start_failure(client: SSHClient, ssh_lab) -> None:
    with _broken_acl(ssh_lab, "#!/bin/sh\necho no prompt here\n"):
        with pytest.raises(ACLError, match="Failed to start ACL session") as info:
            client.acl_session(timeout=10)
    assert isinstance(info.value.__cause__, SSHError)
