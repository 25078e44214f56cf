"""Exceptions of the DPM codec.

Decoding bad input raises only :class:`DPMProtocolError` (or its subclass
:class:`DPMHTTPRejected`), so a reader can catch one type and drop the
connection. Encoding a message that cannot be represented raises
:class:`DPMEncodeError`, which is a ``ValueError`` (and a ``TypeError``) because
it is a caller mistake, not a wire fault.
"""

from __future__ import annotations


class DPMProtocolError(Exception):
    """Bytes received from the peer do not form a valid DPM frame or message."""


class DPMHTTPRejected(DPMProtocolError):
    """The proxy answered the handshake with an HTTP response instead of a frame.

    ``status_line`` holds the first line of that response (for example
    ``"HTTP/1.1 404 Not Found"``).
    """

    def __init__(self, status_line: str) -> None:
        super().__init__(f"DPM handshake rejected by proxy: {status_line}")
        self.status_line = status_line


class DPMEncodeError(ValueError, TypeError):
    """A message field holds a value that cannot be encoded (range, type, non-Latin-1 text)."""
