"""exec / exec_stream / exec_many / open_channel against a real sshd (key auth)."""

from __future__ import annotations

import itertools
import re
import threading

import pytest

from pacsys_ssh.client import CommandResult, SSHClient
from pacsys_ssh.errors import SSHCommandError, SSHConnectionError, SSHTimeoutError


def test_connection_is_lazy_and_exec_returns_output(client: SSHClient) -> None:
    assert not client.connected
    assert "disconnected" in repr(client)
    result = client.exec("echo hello; echo oops >&2; exit 3")
    assert client.connected
    assert "connected" in repr(client)
    assert isinstance(result, CommandResult)
    assert result.command == "echo hello; echo oops >&2; exit 3"
    assert result.stdout == "hello\n"
    assert result.stderr == "oops\n"
    assert result.exit_code == 3
    assert not result.ok


def test_exec_ok_and_whoami(client: SSHClient, ssh_lab) -> None:
    result = client.exec("whoami", timeout=10)
    assert result.ok
    assert result.stdout.strip() == ssh_lab.login


def test_exec_sends_input_and_closes_stdin(client: SSHClient) -> None:
    result = client.exec("cat; echo END", timeout=10, input="héllo\nworld")
    assert result.stdout == "héllo\nworldEND\n"


def test_exec_large_output(client: SSHClient) -> None:
    result = client.exec("head -c 3000000 /dev/zero | tr '\\0' x", timeout=30)
    assert len(result.stdout) == 3_000_000
    assert set(result.stdout) == {"x"}


def test_exec_invalid_utf8_is_replaced(client: SSHClient) -> None:
    result = client.exec("printf 'a\\377b'", timeout=10)
    assert result.stdout == "a\ufffdb"


def test_exec_timeout(client: SSHClient) -> None:
    with pytest.raises(SSHTimeoutError, match=re.escape("timed out after 0.5s: 'sleep 30'")):
        client.exec("sleep 30", timeout=0.5)
    assert client.exec("echo still usable", timeout=10).stdout == "still usable\n"


def test_exec_many_in_order(client: SSHClient) -> None:
    results = client.exec_many(["echo one", "false", "echo three"], timeout=10)
    assert [r.stdout for r in results] == ["one\n", "", "three\n"]
    assert [r.exit_code for r in results] == [0, 1, 0]


def test_exec_stream_yields_lines_as_they_arrive(client: SSHClient) -> None:
    stream = client.exec_stream("echo first; read x; echo second; printf tail", timeout=10)
    # the generator sends nothing before iteration starts
    assert not client.connected
    assert next(stream) == "first"
    # "second" cannot have been produced yet: the command blocks reading stdin, which
    # exec_stream closed, so read returns at EOF and the rest follows.
    assert list(stream) == ["second", "tail"]


def test_exec_stream_keeps_carriage_returns(client: SSHClient) -> None:
    assert list(client.exec_stream("printf 'a\\r\\nb\\n'", timeout=10)) == ["a\r", "b"]


def test_exec_stream_nonzero_exit_raises_after_output(client: SSHClient) -> None:
    seen: list[str] = []
    with pytest.raises(SSHCommandError) as info:
        for line in client.exec_stream("seq 1 3; echo bad >&2; exit 4", timeout=10):
            seen.append(line)
    assert seen == ["1", "2", "3"]
    assert info.value.exit_code == 4
    assert info.value.stderr == "bad\n"
    assert "failed (exit=4): bad" in str(info.value)


def test_exec_stream_timeout(client: SSHClient) -> None:
    with pytest.raises(SSHTimeoutError):
        list(client.exec_stream("echo a; sleep 30", timeout=0.5))


def test_exec_stream_early_stop_closes_channel(client: SSHClient) -> None:
    stream = client.exec_stream("yes", timeout=10)
    assert next(stream) == "y"
    # Taken while open: once the server confirms the close, paramiko drops the channel from
    # the transport's map (under load that can happen before the assertion runs).
    channels = [c for c in client._final_transport()._channels.values() if not c.closed]
    assert channels
    stream.close()
    assert all(channel.closed for channel in channels)


# Where the stream is when it is closed: (command, lines to read first).
EARLY_STOPS = {
    # the first line came, the bulk of the output starts while the stream closes
    "before output": ("echo start; yes | head -c 300000", 1),
    "mid-output": ("yes | head -c 300000", 3),
    # "b" has no newline: the stream yields it after end of file, before the exit status
    "after EOF": ("printf 'a\\nb'", 2),
}


@pytest.mark.parametrize("moment", EARLY_STOPS)
def test_closing_one_stream_early_keeps_the_connection(client: SSHClient, moment: str) -> None:
    """Closing a channel while its data arrives must not break the other channels.

    The transport thread wakes waiters on each arriving packet; a close racing with that
    used to kill the whole transport ("Socket exception: Bad file descriptor"). A race:
    four threads open and close streams at once, many times, so that a regression shows;
    a ``cat`` on another channel of the same client must answer throughout.
    """
    command, lines = EARLY_STOPS[moment]
    errors: list[BaseException] = []

    def close_early() -> None:
        try:
            for _ in range(60):
                stream = client.exec_stream(command, timeout=10)
                for _ in range(lines):
                    next(stream)
                stream.close()
        except BaseException as exc:
            errors.append(exc)

    with client.remote_process("cat", timeout=10) as other:
        workers = [threading.Thread(target=close_early, name=f"test-close-{i}") for i in range(4)]
        for worker in workers:
            worker.start()
        for i in itertools.count():
            other.send_line(f"ping {i}")
            assert other.read_until(f"ping {i}\n".encode(), timeout=10) == b""
            if not any(worker.is_alive() for worker in workers):
                break
        for worker in workers:
            worker.join(10)
    assert errors == []
    assert client.exec("echo alive", timeout=10).stdout == "alive\n"


def test_input_for_a_command_that_exits_at_once(client: SSHClient) -> None:
    """The command may end before its input is sent: the result still comes, the connection
    stays (data sent after the server closed the channel used to make it drop all)."""
    results: list[CommandResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(40):
                results.append(client.exec("exit 3", timeout=10, input="x" * 100_000))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=run, name=f"test-input-{i}") for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    assert [result.exit_code for result in results] == [3] * 160
    assert client.exec("echo alive", timeout=10).stdout == "alive\n"


def test_concurrent_first_use_builds_one_chain(key_hop) -> None:
    ssh = SSHClient(key_hop, connect_timeout=5.0)
    barrier = threading.Barrier(4)
    outputs: list[str] = []
    chains = set()

    def work() -> None:
        barrier.wait(5)
        outputs.append(ssh.exec("echo hi", timeout=10).stdout)
        chains.add(id(ssh._chain))

    threads = [threading.Thread(target=work, name=f"test-exec-{i}") for i in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        assert outputs == ["hi\n"] * 4
        assert len(chains) == 1
    finally:
        ssh.close()


def test_open_channel_keeps_stdin_open(client: SSHClient) -> None:
    channel = client.open_channel("cat", timeout=5)
    try:
        channel.sendall(b"ping\n")
        assert channel.recv(100) == b"ping\n"
        assert channel.gettimeout() == 5
    finally:
        channel.close()


def test_dead_transport_is_not_reconnected(client: SSHClient) -> None:
    client.exec("true", timeout=10)
    client._chain.final.close()
    with pytest.raises(SSHConnectionError, match="Transport is no longer active"):
        client.exec("true", timeout=10)
    assert client.connected
    client.close()
    assert not client.connected
    assert client.exec("echo again", timeout=10).stdout == "again\n"
