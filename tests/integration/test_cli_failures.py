"""The tools when nothing can work: devices that never answer, a server that is not there.

acmonitor stops (status 1) once every DRF failed for good instead of waiting forever; against
a closed port it backs off and never claims to be reconnected; acinfo reports one connection
failure once.  Subprocesses against the simulator (``-b sim``) or a DPMServer on loopback.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator

import pytest

from .cli_tools import address, closed_port, reaped, run, simulated_dpm, start


@pytest.fixture(scope="module")
def dpm() -> Iterator[tuple[str, ...]]:
    with simulated_dpm() as (_, server):
        yield address(server)


@pytest.mark.parametrize(
    "argv",
    [
        ("-b", "sim", "-n", "2", "Z:NOSUCH"),
        ("-b", "sim", "-e", "e,02", "M:OUTTMP"),  # the simulator has no clock event $02
        ("-b", "sim", "Z:NOSUCH", "Z:SIMPS.ANALOG"),
        ("-b", "sim", "--format", "log", "Z:NOSUCH"),
    ],
)
def test_acmonitor_stops_when_every_device_failed(argv: tuple[str, ...]) -> None:
    done = run("acmonitor", *argv)  # before the fix: waited forever (TimeoutExpired)
    assert done.returncode == 1, done.stderr
    assert "every device failed permanently" in done.stderr
    assert "Traceback" not in done.stderr


def test_acmonitor_no_such_device_over_dpm(dpm: tuple[str, ...]) -> None:
    done = run("acmonitor", *dpm, "-n", "2", "Z:NOSUCH")
    assert done.returncode == 1, done.stderr
    assert "DPM_NO_SUCH_DEVICE" in done.stdout
    assert "every device failed permanently (Z:NOSUCH.READING@p,1000)" in done.stderr


def test_acmonitor_keeps_streaming_the_devices_that_work(dpm: tuple[str, ...]) -> None:
    done = run("acmonitor", *dpm, "-n", "3", "-t", "Z:NOSUCH", "M:OUTTMP@p,200")
    assert done.returncode == 1  # an error reading was printed
    out = done.stdout.splitlines()
    assert len(out) == 3 and sum(line.startswith("[ERROR]") for line in out) == 1
    assert "failed permanently" not in done.stderr


def test_acmonitor_closed_port_backs_off_and_never_says_reconnected() -> None:
    port = str(closed_port())
    argv = ["-H", "127.0.0.1", "-P", port, "--reconnect-delay", "0.05"]
    seen: list[str] = []
    with reaped(start("acmonitor", *argv, "M:OUTTMP")) as process:
        assert process.stderr is not None
        while len([line for line in seen if "reconnecting in" in line]) < 5:
            line = process.stderr.readline()
            assert line, f"acmonitor ended early: {seen}"
            seen.append(line.strip())
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    seen += err.splitlines()
    assert not any("reconnected" in line for line in seen), seen
    delays = [float(m.group(1)) for line in seen if (m := re.search(r"in ([\d.]+) s$", line))]
    assert delays[:5] == [0.05, 0.1, 0.2, 0.4, 0.8], seen
    assert seen[0].startswith("acmonitor: stream lost (")
    assert all(line.startswith("acmonitor: reconnect failed (") for line in seen[1:5])


def test_backoff_is_capped() -> None:
    from pacsys.cli.acmonitor import MAX_BACKOFF, MIN_RECONNECT_DELAY, reconnect_policy
    from pacsys.cli.acmonitor import build_parser as monitor_parser

    def delays(*argv: str) -> list[float]:
        policy = reconnect_policy(monitor_parser().parse_args([*argv, "M:OUTTMP"]))
        assert policy is not None
        backoff = policy.backoff()
        return [backoff.after_failure(0.0) or 0.0 for _ in range(7)]

    assert delays("--reconnect-delay", "1") == [1, 2, 4, 8, 16, MAX_BACKOFF, MAX_BACKOFF]
    assert MAX_BACKOFF == 30.0
    assert delays("--reconnect-delay", "0")[:2] == [MIN_RECONNECT_DELAY, 2 * MIN_RECONNECT_DELAY]
    assert delays("--reconnect-delay", "45") == [45.0] * 7  # above the cap: the cap follows
    assert reconnect_policy(monitor_parser().parse_args(["--no-reconnect", "M:OUTTMP"])) is None


def test_acinfo_connection_failure_reported_once() -> None:
    port = str(closed_port())
    done = run("acinfo", "-H", "127.0.0.1", "-P", port, "M:OUTTMP", "G:AMANDA")
    assert done.returncode == 1
    errors = done.stderr.strip().splitlines()
    assert len(errors) == 1, errors  # before: once per property (reading, setting, status)
    assert errors[0].startswith("acinfo: M:OUTTMP: ") and "Connection refused" in errors[0]


@pytest.mark.parametrize("delay", ["-1", "inf", "nan"])
def test_reconnect_delay_must_be_finite_and_not_negative(delay: str) -> None:
    done = run("acmonitor", "-b", "sim", "--reconnect-delay", delay, "M:OUTTMP")
    assert done.returncode == 2, done.stderr
    assert "--reconnect-delay must be a finite number, 0 or more" in done.stderr


def test_acmonitor_over_dpm_resubscribes_when_the_server_comes_back() -> None:
    """The DPM backend's ReconnectPolicy, not acmonitor, subscribes again after a restart."""
    from pacsys.sim import SimBackend
    from pacsys_dpm.server import DPMServer

    with SimBackend() as sim:
        first = DPMServer(sim, port=0)
        first.__enter__()
        port = first.client_env()["PACSYS_DPM_PORT"]
        argv = ["-H", "127.0.0.1", "-P", port, "-n", "3", "-t", "--reconnect-delay", "0.1"]
        with reaped(start("acmonitor", *argv, "M:OUTTMP@p,200")) as process:
            assert process.stdout is not None and process.stderr is not None
            assert process.stdout.readline().strip(), "no first reading"
            first.__exit__(None, None, None)
            lost = process.stderr.readline()
            assert lost.startswith("acmonitor: stream lost ("), lost
            assert lost.rstrip().endswith("reconnecting in 0.1 s"), lost
            with DPMServer(sim, port=int(port)):
                process.wait(timeout=60)
            # Read through the same text streams: readline() above may hold later lines in
            # their buffers (communicate() would read past them, at the raw pipes).
            out, err = process.stdout.read(), process.stderr.read()
    assert process.returncode == 0, err
    # -n 3 in all; the second reading may come before or after the restart, the third after.
    assert len(out.splitlines()) == 2
    assert "acmonitor: reconnected" in err
