"""pacsys.testing.resources.leaves_nothing, and the simulator's close() under it."""

from __future__ import annotations

import socket
import threading

import pytest

from pacsys.sim import SimBackend
from pacsys.testing.resources import leaves_nothing, open_sockets


def test_a_thread_left_running_is_named() -> None:
    stop = threading.Event()
    try:
        with pytest.raises(AssertionError, match="threads still running: straggler"):
            with leaves_nothing(timeout=0.2):
                threading.Thread(target=stop.wait, name="straggler", daemon=True).start()
    finally:
        stop.set()


def test_a_socket_left_open_is_counted() -> None:
    sock = None
    try:
        with pytest.raises(AssertionError, match="1 socket"):
            with leaves_nothing(timeout=0.2):
                sock = socket.socket()
    finally:
        assert sock is not None
        sock.close()


def test_closed_resources_pass() -> None:
    with leaves_nothing():
        with socket.socket() as sock:
            assert sock.fileno() >= 0 and open_sockets()
        thread = threading.Thread(target=lambda: None)
        thread.start()
        thread.join()


def test_sim_backend_close_leaves_nothing() -> None:
    with leaves_nothing():
        backend = SimBackend()
        assert backend.read("M:OUTTMP") is not None
        with backend.subscribe(["M:OUTTMP@p,100"]) as handle:
            next(iter(handle.readings(timeout=5)))
        backend.close()
