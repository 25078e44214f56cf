"""A dependency-free progress bar: one redrawn line on a terminal, a live display in notebooks."""

from __future__ import annotations

import html
import sys
import time
from typing import Any, TextIO

__all__ = ["Progress", "in_notebook"]

WIDTH = 30


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython is only looked at if already imported)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class Progress:
    """Shows ``done/total`` with a bar and a note; ``enabled=None`` decides by the context.

    Auto mode draws in a Jupyter notebook (an updating HTML ``<progress>`` element) or when
    ``stream`` is a terminal; ``True`` always draws (text when not in a notebook); ``False``
    never does. Redraws are limited to about 10 per second.
    """

    def __init__(
        self,
        total: int,
        label: str,
        enabled: bool | None = None,
        stream: TextIO | None = None,
    ) -> None:
        self._total = max(total, 1)
        self._label = label
        self._stream = stream if stream is not None else sys.stderr
        notebook = in_notebook()
        if enabled is None:
            isatty = getattr(self._stream, "isatty", None)
            enabled = notebook or bool(isatty and isatty())
        self._mode = "off" if not enabled else ("html" if notebook else "text")
        self._display: Any = None
        self._last_draw = 0.0
        self._started = time.monotonic()

    @property
    def mode(self) -> str:
        """``"text"``, ``"html"`` or ``"off"``."""
        return self._mode

    def update(self, done: int, note: str = "", *, force: bool = False) -> None:
        if self._mode == "off":
            return
        now = time.monotonic()
        if not force and done < self._total and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        if self._mode == "text":
            self._stream.write("\r" + self.text(done, note))
            self._stream.flush()
        else:
            self._show_html(done, note)

    def text(self, done: int, note: str = "") -> str:
        filled = int(WIDTH * min(done, self._total) / self._total)
        bar = "#" * filled + "." * (WIDTH - filled)
        elapsed = time.monotonic() - self._started
        line = f"{self._label} [{bar}] {done}/{self._total} {elapsed:5.1f}s"
        return f"{line}  {note}" if note else line

    def _show_html(self, done: int, note: str) -> None:
        from IPython.display import HTML, display

        body = HTML(
            f"<div><code>{html.escape(self._label)}</code> "
            f'<progress value="{done}" max="{self._total}"></progress> '
            f"{done}/{self._total} <code>{html.escape(note)}</code></div>"
        )
        if self._display is None:
            self._display = display(body, display_id=True)
        else:
            self._display.update(body)

    def close(self, done: int, note: str = "") -> None:
        """Draw the final state (and end the terminal line)."""
        if self._mode == "off":
            return
        self.update(done, note, force=True)
        if self._mode == "text":
            self._stream.write("\n")
            self._stream.flush()
