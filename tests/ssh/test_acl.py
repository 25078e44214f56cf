"""ACL over SSH without an ACL interpreter: validation, transcripts, failing ``acl`` programs.

The real conversation (pacsys-acl's interpreter as the remote ``acl``) is tested in
tests/integration/test_ssh_acl.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from pacsys.errors import ACLError
from pacsys_ssh.acl_session import clean_acl_output
from pacsys_ssh.client import SSHClient
from pacsys_ssh.errors import SSHError
from pacsys_ssh.testing import SSHLab


@contextlib.contextmanager
def acl_program(ssh_lab: SSHLab, script: str) -> Iterator[None]:
    """The shell ``script`` is the sessions' ``acl`` for the block (any other one set aside)."""
    program = ssh_lab.bin_dir / "acl"
    aside = ssh_lab.bin_dir / "acl.aside"
    had_one = program.exists()
    if had_one:
        program.rename(aside)
    try:
        program.write_text(script)
        program.chmod(0o755)
        yield
    finally:
        program.unlink()
        if had_one:
            aside.rename(program)


def test_clean_acl_output() -> None:
    transcript = "\nACL> read M:OUTTMP; read G:AMANDA\n\nA = 1\n\nB = 2\n\nACL> \n"
    assert clean_acl_output(transcript) == "A = 1\n\nB = 2"
    assert clean_acl_output("\nACL> set x 1\n\nACL> \n") == ""


def test_one_shot_validation(client: SSHClient) -> None:
    with pytest.raises(ValueError, match="command list must not be empty"):
        client.acl([])


def test_one_shot_failure_without_output_raises(client: SSHClient, ssh_lab: SSHLab) -> None:
    with acl_program(ssh_lab, "#!/bin/sh\necho 'acl: license expired' >&2\nexit 2\n"):
        with pytest.raises(ACLError, match="ACL script failed: acl: license expired"):
            client.acl("read M:OUTTMP")


def test_session_start_failure(client: SSHClient, ssh_lab: SSHLab) -> None:
    with acl_program(ssh_lab, "#!/bin/sh\necho no prompt here\n"):
        with pytest.raises(ACLError, match="Failed to start ACL session") as info:
            client.acl_session(timeout=10)
    assert isinstance(info.value.__cause__, SSHError)
