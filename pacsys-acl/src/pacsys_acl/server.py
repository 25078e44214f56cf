"""ACLServer: an emulated ACL CGI on HTTP, answering ``?acl=<script>`` with any Backend's data.

docs/protocols/acl.md §12.1: ``GET``/``HEAD`` on ``/cgi-bin/acl.pl``; the raw query value after
``acl=`` (``+`` and ``%XX`` decoded, ``\\;`` separating commands) runs through
:class:`~pacsys_acl.interpreter.ACLInterpreter`; the body is ``text/plain`` UTF-8 with one
line per printed line, no blank lines, stopping at the first failing command.  Missing
``acl=`` -> 400, other paths -> 404.  Each connection is served by its own named thread.

>>> with ACLServer(FakeBackend()) as server:
...     pacsys.acl(server.url).read("M:OUTTMP")
"""

from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote_plus

from pacsys.backends import Backend
from pacsys.backends.params import check_host, check_port
from pacsys_acl.defaults import DEFAULT_PATH, DEFAULT_PORT, URL_ENV
from pacsys_acl.interpreter import ACLInterpreter

__all__ = ["DEFAULT_PATH", "DEFAULT_PORT", "ACLServer", "decode_query"]

log = logging.getLogger("pacsys_acl.server")

JOIN_TIMEOUT = 5.0


def decode_query(query: str) -> str | None:
    """The ACL script in a raw query string (None without ``acl=``).

    Everything after ``acl=`` is the script (``;`` and ``&`` inside are not split);
    ``+`` and ``%XX`` are decoded and the ``\\;`` separators become ``;``.
    """
    if query.startswith("acl="):
        raw = query[4:]
    else:
        marker = query.find("&acl=")
        if marker < 0:
            return None
        raw = query[marker + 5 :]
    return unquote_plus(raw, errors="replace").replace("\\;", ";")


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with named, tracked per-connection threads."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], family: int, interp: ACLInterpreter, path: str
    ) -> None:
        self.address_family = family
        self.interp = interp
        self.acl_path = path
        self._workers: set[threading.Thread] = set()
        self._workers_lock = threading.Lock()
        self._counter = 0
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._workers_lock:
            self._counter += 1
            worker = threading.Thread(
                target=self._serve_one,
                args=(request, client_address),
                name=f"pacsys-acl-http-{self.server_address[1]}-{self._counter}",
                daemon=True,
            )
            self._workers.add(worker)
        worker.start()

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._workers_lock:
                self._workers.discard(threading.current_thread())

    def join_workers(self, timeout: float) -> None:
        with self._workers_lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(timeout)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "pacsys-acl"
    timeout = 30.0  # socket timeout: a stalled client cannot hold a thread forever

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, with_body: bool) -> None:
        path, _, query = self.path.partition("?")
        if path != self.server.acl_path:
            self._send(404, f"! No ACL CGI at {path}\n", with_body)
            return
        script = decode_query(query)
        if script is None:
            self._send(400, "! Missing acl= parameter\n", with_body)
            return
        try:
            outcome = self.server.interp.run(script)
        except Exception:
            log.exception("ACL script failed inside the emulator: %r", script)
            self._send(500, "! Internal error in ACL emulator\n", with_body)
            return
        lines = outcome.lines
        self._send(200, "\n".join(lines) + "\n" if lines else "", with_body)

    def _send(self, status: int, body: str, with_body: bool) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if with_body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class ACLServer:
    """Serve ``backend`` as an ACL CGI on ``http://host:port/cgi-bin/acl.pl`` (port 0 = any).

    A context manager: starts on enter, stops on exit.  ``timeout`` is passed to every
    backend call the interpreter makes; ``decimals`` is the float display precision.  Like
    the real CGI it is read-only unless ``allow_settings=True`` (``set`` -> ``DIO_NOPRIV``).
    """

    def __init__(
        self,
        backend: Backend,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        path: str = DEFAULT_PATH,
        timeout: float | None = None,
        decimals: int = 3,
        allow_settings: bool = False,
    ) -> None:
        check_port(port, lowest=0)
        check_host(host)
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        self._interp = ACLInterpreter(
            backend, timeout=timeout, decimals=decimals, allow_settings=allow_settings
        )
        self._host = host
        self._requested_port = port
        self._path = path
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"ACLServer({self._host}:{self._requested_port}{self._path}, {state})"

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> ACLServer:
        """Bind and serve in a background thread; idempotent while running."""
        with self._lock:
            if self._httpd is not None:
                return self
            family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
            address = (self._host, self._requested_port)
            httpd = _HTTPServer(address, family, self._interp, self._path)
            self._httpd = httpd
            self._stopped.clear()
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.2},
                name=f"pacsys-acl-server-{httpd.server_address[1]}",
                daemon=True,
            )
            self._thread.start()
        log.info("ACL CGI emulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join every thread; idempotent."""
        with self._lock:
            httpd, thread = self._httpd, self._thread
            self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(JOIN_TIMEOUT)
        httpd.join_workers(JOIN_TIMEOUT)
        self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server is stopped (True) or ``timeout`` passes (False)."""
        return self._stopped.wait(timeout)

    def __enter__(self) -> ACLServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- where it is -----------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        """The bound port (the requested one before start)."""
        httpd = self._httpd
        return httpd.server_address[1] if httpd is not None else self._requested_port

    @property
    def address(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        """Base URL for :func:`pacsys.acl` (``http://host:port/cgi-bin/acl.pl``)."""
        return f"http://{self.address}{self._path}"

    def client_env(self) -> dict[str, str]:
        """``{"PACSYS_ACL_URL": url}``: points ``pacsys.acl()`` at this server."""
        return {URL_ENV: self.url}
