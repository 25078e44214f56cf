"""acmonitor stops cleanly on Ctrl-C (SIGINT) or SIGTERM, whenever the signal arrives.

In-process runs put ``main()`` in pytest's main thread (where signal handlers live) with a
FakeBackend plugin whose hooks raise the signal at chosen moments of the loop; a
subprocess run shows the same for a tool started with SIGINT ignored, as a background job
of a non-interactive shell is (the shell sets SIGINT to "ignore" for ``cmd &``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pacsys.hookspecs import BackendSpec, hookimpl
from pacsys.registry import get_registry
from pacsys.testing import FakeBackend
from pacsys.testing.fake_backend import FakeSubscriptionHandle
from pacsys.types import BackendCapability

BIN = Path(sys.executable).parent
DRF = "M:OUTTMP@p,1000"
#: How long acmonitor would run without the signal; it must stop long before.
DURATION = 30.0

MOMENTS = (
    "subscribing",  # inside backend.subscribe
    "waiting",  # while the loop waits for readings (sent from another thread)
    "delivering",  # inside the subscription's iterator, while it holds its lock
    "printing",  # while a reading is being printed
    "pausing",  # while the backend pauses before subscribing again after a stream failure
    "resubscribing",  # while the backend subscribes again (on its own thread)
    "closing",  # inside backend.close after -n readings
)
SIGNALS = (
    pytest.param(signal.SIGINT, signal.default_int_handler, id="SIGINT"),
    pytest.param(signal.SIGINT, signal.SIG_IGN, id="SIGINT-inherited-ignored"),
    pytest.param(signal.SIGTERM, signal.SIG_DFL, id="SIGTERM"),
)


class _Handle(FakeSubscriptionHandle):
    """Runs ``hook`` while yielding each reading, inside the subscription's lock."""

    hook: Callable[[], None] = staticmethod(lambda: None)

    def _iterate(self, timeout: float | None, count: int | None = None) -> Any:
        for item in super()._iterate(timeout, count):
            with self._cond:
                self.hook()
            yield item


class _Fake(FakeBackend):
    """A FakeBackend with hooks at subscribe (by call number) and close."""

    def __init__(self) -> None:
        super().__init__()
        self.subscribe_hooks: dict[int, Callable[[], None]] = {}
        self.iterate_hook: Callable[[], None] = lambda: None
        self.close_hook: Callable[[], None] = lambda: None
        self.subscribed = 0

    def subscribe(self, drfs: list[str], callback: Any = None, on_error: Any = None) -> Any:
        self.subscribed += 1
        self.subscribe_hooks.get(self.subscribed, lambda: None)()
        return super().subscribe(drfs, callback, on_error)

    def _new_handle(self, drfs: list[str], callback: Any, on_error: Any) -> _Handle:
        # Registered as built: a driver that saw the subscription emits to this handle.
        handle = _Handle(
            drfs,
            range(len(drfs)),
            dispatcher=self._dispatcher,
            callback=callback,
            on_error=on_error,
            on_stop=self._forget,
        )
        handle.hook = self.iterate_hook  # type: ignore[method-assign]
        return handle

    def _resume(self, handle: Any) -> None:
        """The backend subscribing again after a lost stream counts as a subscribe call."""
        self.subscribed += 1
        self.subscribe_hooks.get(self.subscribed, lambda: None)()
        super()._resume(handle)

    def close(self) -> None:
        self.close_hook()
        super().close()

    def active(self) -> int:
        return len(self._active())


class _Plugin:
    def __init__(self, backend: _Fake) -> None:
        self.backend = backend

    @hookimpl
    def pacsys_backends(self) -> list[BackendSpec]:
        caps = BackendCapability.READ | BackendCapability.STREAM
        return [BackendSpec("sigfake", self.make, capabilities=caps)]

    def make(self, reconnect: Any = None, **_: Any) -> _Fake:
        self.backend.reconnect = reconnect  # acmonitor's policy for lost streams
        return self.backend


@pytest.fixture
def fake() -> Iterator[_Fake]:
    backend = _Fake()
    with get_registry().plugin(_Plugin(backend), "sigfake-test"):
        yield backend
    backend.close_hook = lambda: None
    backend.close()


class _Scenario:
    """Raises the signal once, at the chosen moment, and records when."""

    def __init__(self, signum: int, fake: _Fake, monkeypatch: pytest.MonkeyPatch) -> None:
        from pacsys.cli import acmonitor

        self.signum = signum
        self.fake = fake
        self.sent_at: float | None = None
        self.printed = threading.Event()
        self.reconnecting = threading.Event()
        show, error = acmonitor.Printer.show, acmonitor.print_error
        self.show_hook: Callable[[], None] = lambda: None

        def traced_show(printer: Any, reading: Any) -> None:
            self.show_hook()
            show(printer, reading)
            self.printed.set()

        def traced_error(prog: str, text: str) -> None:
            error(prog, text)
            if "reconnecting" in text:
                self.reconnecting.set()

        monkeypatch.setattr(acmonitor.Printer, "show", traced_show)
        monkeypatch.setattr(acmonitor, "print_error", traced_error)

    def raise_once(self) -> None:
        """Deliver the signal now, from the thread that calls (the main thread here)."""
        if self.sent_at is None:
            self.sent_at = time.monotonic()
            signal.raise_signal(self.signum)

    def send_from_thread(self) -> None:
        self.sent_at = time.monotonic()
        os.kill(os.getpid(), self.signum)

    def drive(self, moment: str) -> None:
        """Runs on a helper thread while acmonitor runs in the main thread."""
        if moment == "subscribing":
            return
        assert self.fake.wait_for_subscription(DRF, timeout=10)
        if moment == "resubscribing":
            self.fake.emit_error(ConnectionError("gone"))
            return
        self.fake.emit_reading(DRF, 1.5, units="DegF")
        if moment == "waiting":
            assert self.printed.wait(10)
            self.send_from_thread()
        elif moment == "pausing":
            assert self.printed.wait(10)
            self.fake.emit_error(ConnectionError("gone"))
            assert self.reconnecting.wait(10)
            self.send_from_thread()


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize(("signum", "inherited"), SIGNALS)
def test_signal_at_any_moment_stops_cleanly(
    moment: str,
    signum: int,
    inherited: Any,
    fake: _Fake,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pacsys.cli import acmonitor

    scenario = _Scenario(signum, fake, monkeypatch)
    argv = ["-b", "sigfake", "--duration", str(DURATION), "--reconnect-delay", "20", DRF]
    if moment == "subscribing":
        fake.subscribe_hooks[1] = scenario.raise_once
    elif moment == "delivering":
        fake.iterate_hook = scenario.raise_once
    elif moment == "printing":
        scenario.show_hook = scenario.raise_once
    elif moment == "resubscribing":
        argv[argv.index("20")] = "0"
        fake.subscribe_hooks[2] = scenario.raise_once
    elif moment == "closing":
        argv[:0] = ["-n", "1"]
        fake.close_hook = scenario.raise_once

    driver = threading.Thread(target=scenario.drive, args=(moment,), name="driver", daemon=True)
    previous = signal.signal(signum, inherited)
    try:
        driver.start()
        code = acmonitor.main(argv)
        ended = time.monotonic()
        assert signal.getsignal(signum) is inherited  # the tool's handler is gone again
    finally:
        signal.signal(signum, previous)
    driver.join(10)
    assert scenario.sent_at is not None, "the scenario never sent its signal"
    assert code == 0
    assert ended - scenario.sent_at < DURATION / 2, "the signal did not stop acmonitor"
    assert fake.active() == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_background_job_with_sigint_ignored_stops_on_signal(signum: int) -> None:
    """``acmonitor ... &`` in a script starts with SIGINT ignored; it must still stop."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACSYS_")}
    process = subprocess.Popen(
        [str(BIN / "acmonitor"), "-b", "sim", "--format", "log", "M:OUTTMP@p,100"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # noqa: PLW1509
    )
    try:
        assert process.stdout is not None
        assert "M:OUTTMP@p,100" in process.stdout.readline()
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
