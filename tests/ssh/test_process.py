"""RemoteProcess: interactive byte pipes over real SSH channels."""

from __future__ import annotations

import pytest

from pacsys_ssh.client import SSHClient
from pacsys_ssh.errors import SSHError, SSHTimeoutError
from pacsys_ssh.hops import SSHHop
from pacsys_ssh.process import RemoteProcess


def test_cat_echo_and_markers(client: SSHClient) -> None:
    with client.remote_process("cat", timeout=5) as proc:
        assert proc.alive and repr(proc) == "RemoteProcess(alive)"
        proc.send_line("hello world")
        assert proc.read_until(b"\n") == b"hello world"
        proc.send_line("aaaMARKERbbb")
        assert proc.read_until(b"MARKER") == b"aaa"
        assert proc.read_until(b"\n") == b"bbb"
        proc.send_bytes(b"aMARKERbMARKERc\n")
        assert proc.read_until(b"MARKER") == b"a"
        assert proc.read_until(b"MARKER") == b"b"
        # leftovers stay buffered and are returned by read_for
        assert proc.read_for(0.3) == b"c\n"
    assert not proc.alive and repr(proc) == "RemoteProcess(closed)"
    proc.close()


def test_bc_over_two_hops(ssh_lab, jump, target) -> None:
    hops = [
        SSHHop("127.0.0.1", jump.port, auth_method="key", key_filename=str(ssh_lab.user_key)),
        SSHHop("127.0.0.1", target.port, auth_method="key", key_filename=str(ssh_lab.user_key)),
    ]
    with SSHClient(hops) as ssh, RemoteProcess(ssh, "bc -q", timeout=5) as proc:
        proc.send_line("2 + 3")
        assert proc.read_until(b"\n").strip() == b"5"
        proc.send_line("7 * 6")
        assert proc.read_until(b"\n").strip() == b"42"


def test_marker_timeout_reports_buffer_tail(client: SSHClient) -> None:
    with client.remote_process("cat", timeout=5) as proc:
        proc.send_line("partial")
        with pytest.raises(SSHTimeoutError, match=r"Timed out waiting for marker b'END'.*partial"):
            proc.read_until(b"END", timeout=0.3)
        # the data is still buffered
        proc.send_line("END")
        assert proc.read_until(b"END") == b"partial\n"


def test_process_exit_while_waiting(client: SSHClient) -> None:
    with client.remote_process("echo bye; echo noise >&2; exit 0", timeout=5) as proc:
        with pytest.raises(SSHError, match="Process exited while waiting for marker") as info:
            proc.read_until(b"NEVER")
        assert not isinstance(info.value, SSHTimeoutError)
        assert b"bye" in str(info.value).encode()
        assert proc.channel.status_event.wait(5)
        assert not proc.alive


def test_read_for_collects_until_exit(client: SSHClient) -> None:
    with client.remote_process("echo hello; sleep 0.3; echo world", timeout=5) as proc:
        data = proc.read_for(5.0)
    assert data == b"hello\nworld\n"


def test_read_for_returns_empty_when_quiet(client: SSHClient) -> None:
    with client.remote_process("cat", timeout=5) as proc:
        assert proc.read_for(0.2) == b""


def test_stderr_flood_does_not_block(client: SSHClient) -> None:
    cmd = "head -c 4000000 /dev/zero >&2; echo done"
    with client.remote_process(cmd, timeout=20) as proc:
        assert proc.read_until(b"done\n", timeout=20) == b""


def test_several_processes_share_one_client(client: SSHClient) -> None:
    procs = [client.remote_process("cat", timeout=5) for _ in range(4)]
    try:
        for index, proc in enumerate(procs):
            proc.send_line(f"p{index}")
        assert [p.read_until(b"\n") for p in procs] == [b"p0", b"p1", b"p2", b"p3"]
        assert len(client._chain.transports) == 1
    finally:
        for proc in procs:
            proc.close()

