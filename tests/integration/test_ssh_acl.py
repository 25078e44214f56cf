"""ACL over SSH end to end: pacsys-acl's interpreter over the simulator is the sshd's ``acl``."""

from __future__ import annotations

import re

import pytest

from pacsys.errors import ACLError
from pacsys_ssh.acl_session import ACLSession
from pacsys_ssh.client import SSHClient

SCALAR = re.compile(r"^M:OUTTMP {7}= +-?\d+\.\d+ DegF$")


def _temp_files(ssh: SSHClient) -> list[str]:
    return ssh.exec("ls /tmp | grep '^pacsys_acl_' || true", timeout=10).stdout.split()


def test_one_shot_read(ssh_client: SSHClient) -> None:
    before = _temp_files(ssh_client)
    text = ssh_client.acl("read M:OUTTMP")
    assert SCALAR.match(text), text
    assert _temp_files(ssh_client) == before  # the script file was removed


def test_one_shot_several_lines_share_variables(ssh_client: SSHClient) -> None:
    text = ssh_client.acl(["x = 40", "y = x + 2", "print y", "read M:OUTTMP; read G:AMANDA"])
    blocks = [line for line in text.splitlines() if line]
    assert blocks[0] == "42"
    assert SCALAR.match(blocks[1])
    assert blocks[2].startswith("G:AMANDA")


def test_one_shot_inline_error_is_returned(ssh_client: SSHClient) -> None:
    before = _temp_files(ssh_client)
    text = ssh_client.acl(["read M:OUTTMP", "read Z:NOTFND", "read G:AMANDA"])
    first, error = [line for line in text.splitlines() if line]
    assert SCALAR.match(first)
    assert error.endswith("DBM_NOREC")
    assert "G:AMANDA" not in text  # the script stopped at the failing line
    assert _temp_files(ssh_client) == before


def test_session_reads_and_echo_stripping(ssh_client: SSHClient) -> None:
    with ssh_client.acl_session(timeout=20) as acl:
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
    assert ssh_client.exec("echo up", timeout=10).stdout == "up\n"


def test_several_sessions_on_one_client(ssh_client: SSHClient) -> None:
    sessions = [ACLSession(ssh_client, timeout=20) for _ in range(3)]
    try:
        for session in sessions:
            assert SCALAR.match(session.send("read M:OUTTMP"))
    finally:
        for session in sessions:
            session.close()


def test_session_process_exit_closes_session(ssh_client: SSHClient) -> None:
    acl = ssh_client.acl_session(timeout=20)
    with pytest.raises(ACLError, match="Process exited while waiting for marker"):
        acl.send("exit")
    assert acl.closed
