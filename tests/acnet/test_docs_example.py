"""docs/acnet.md's 1440 Hz fast time plot example runs as written against the emulator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pacsys.sim import SimBackend
from pacsys_acnet.server import AcnetServer

DOC = Path(__file__).resolve().parents[2] / "docs" / "acnet.md"


def example(name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"<!-- example: {name} -->\n```python\n(.*?)```", text, re.S)
    assert match, f"no example {name!r} in {DOC}"
    return match.group(1)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    with SimBackend() as sim, AcnetServer(sim) as server:
        monkeypatch.setenv("PACSYS_ACNET_HOST", "127.0.0.1")
        monkeypatch.setenv("PACSYS_ACNET_PORT", str(server.port))
        monkeypatch.chdir(tmp_path)
        yield


@pytest.mark.usefixtures("served")
def test_fast_time_plot_example(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the example plots (pacsys-core[plot])")
    namespace: dict[str, Any] = {"__name__": "example"}
    exec(compile(example("ftp-1440"), str(DOC), "exec"), namespace)
    times, volts = namespace["times"], namespace["volts"]
    assert len(times) == len(volts) >= 2 * 1440
    steps = np.diff(times)
    assert np.all((steps > 0.00055) & (steps < 0.00075))  # 1/1440 s in 100 us ticks
    assert times[-1] == pytest.approx((len(times) - 1) / 1440, rel=0.01)  # no gap
    assert 4.5 < volts.max() < 5.5 and -5.5 < volts.min() < -4.5  # Z:SIMFTP: a 5 V sine
    assert (tmp_path / "ftp_1440hz.png").stat().st_size > 10_000
