"""Port forwarding and SFTP through real sshd daemons."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from pacsys_ssh.client import SSHClient
from pacsys_ssh.hops import SSHHop


def _roundtrip(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(payload)
        conn.shutdown(socket.SHUT_WR)
        received = bytearray()
        while chunk := conn.recv(65536):
            received += chunk
        return bytes(received)


def test_tunnel_relays_to_echo_server(client: SSHClient, echo_server) -> None:
    host, port = echo_server
    tunnel = client.forward(0, host, port)
    assert tunnel.active and tunnel.local_port > 0
    assert repr(tunnel) == f"Tunnel(127.0.0.1:{tunnel.local_port} -> {host}:{port}, active)"
    payload = os.urandom(300_000)
    assert _roundtrip(tunnel.local_port, payload) == payload
    # several connections at once, each on its own channel
    conns = [
        socket.create_connection(("127.0.0.1", tunnel.local_port), timeout=5) for _ in range(3)
    ]
    try:
        for index, conn in enumerate(conns):
            conn.sendall(f"conn{index}".encode())
        assert [conn.recv(100) for conn in conns] == [b"conn0", b"conn1", b"conn2"]
    finally:
        for conn in conns:
            conn.close()
    tunnel.stop()
    tunnel.stop()
    assert not tunnel.active and "stopped" in repr(tunnel)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", tunnel.local_port), timeout=5)


def test_tunnel_to_ssh_port_through_jump(ssh_lab, jump, target) -> None:
    hop = SSHHop("127.0.0.1", jump.port, auth_method="key", key_filename=str(ssh_lab.user_key))
    with SSHClient(hop) as ssh, ssh.forward(0, "127.0.0.1", target.port) as tunnel:
        with socket.create_connection(("127.0.0.1", tunnel.local_port), timeout=5) as conn:
            assert conn.recv(100).startswith(b"SSH-2.0-")


def test_tunnel_to_closed_port_drops_local_connection(client: SSHClient) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        tunnel = client.forward(0, "127.0.0.1", unused.getsockname()[1])
        with socket.create_connection(("127.0.0.1", tunnel.local_port), timeout=5) as conn:
            assert conn.recv(10) == b""
    tunnel.stop()


def test_tunnel_bind_failure_raises_os_error(client: SSHClient, echo_server) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        with pytest.raises(OSError):
            client.forward(busy.getsockname()[1], *echo_server)


def test_sftp_round_trip(ssh_lab, jump, target, tmp_path: Path) -> None:
    hops = [
        SSHHop("127.0.0.1", jump.port, auth_method="key", key_filename=str(ssh_lab.user_key)),
        SSHHop(
            "127.0.0.1", target.port, ssh_lab.test_user, "password", password=ssh_lab.test_password
        ),
    ]
    local = tmp_path / "up.bin"
    data = os.urandom(200_000)
    local.write_bytes(data)
    remote_dir = f"{ssh_lab.test_home}/sftp-test"
    with SSHClient(hops) as ssh, ssh.sftp() as sftp:
        sftp.mkdir(remote_dir)
        sftp.put(str(local), f"{remote_dir}/up.bin")
        assert sftp.listdir(remote_dir) == ["up.bin"]
        assert sftp.stat(f"{remote_dir}/up.bin").st_size == len(data)
        owner = ssh.exec(f"stat -c %U {remote_dir}/up.bin", timeout=10).stdout.strip()
        assert owner == ssh_lab.test_user
        back = tmp_path / "down.bin"
        sftp.get(f"{remote_dir}/up.bin", str(back))
        assert back.read_bytes() == data
        sftp.remove(f"{remote_dir}/up.bin")
        assert sftp.listdir(remote_dir) == []
        with pytest.raises(FileNotFoundError):
            sftp.stat(f"{remote_dir}/missing")
        ssh.exec(f"rmdir {remote_dir}", timeout=10)
