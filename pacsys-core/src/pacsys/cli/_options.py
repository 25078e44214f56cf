"""What every ac* tool shares: connection options, opening a backend, errors -> exit codes.

Backends and auth methods come from the plugin registry, so the tools work with whatever
transports are installed.  Defaults follow the simple API's settings (``PACSYS_DPM_HOST``,
``PACSYS_DPM_PORT``, ``PACSYS_TIMEOUT``, ...).  Exit codes: 0 success, 1 device or ACNET
error, 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pacsys.backends import Backend
from pacsys.cli._argparse import SizedHelpFormatter, parse_intermixed
from pacsys.cli._format import device_error, status_name
from pacsys.drf3 import DataRequest, parse_request

__all__ = [
    "ENV_HELP",
    "EXIT_DEVICE",
    "EXIT_OK",
    "EXIT_USAGE",
    "StopRequest",
    "UsageError",
    "add_connection_options",
    "add_reference_options",
    "add_version_option",
    "backend_takes",
    "on_stop_signals",
    "open_backend",
    "parse_drfs",
    "print_error",
    "range_of",
    "report_exception",
    "run_tool",
    "silence_stdout",
    "timeout_of",
    "tool_parser",
]

EXIT_OK = 0
EXIT_DEVICE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

ENV_HELP = """environment:
  PACSYS_DPM_HOST, PACSYS_DPM_PORT   DPM server (default acsys-proxy.fnal.gov:6802)
  PACSYS_TIMEOUT                     default timeout in seconds (default 5)
  PACSYS_DEVDB_HOST, PACSYS_DEVDB_PORT  DevDB server for metadata
  PACSYS_PLUGINS                     which installed plugins to load

exit status: 0 success, 1 device or ACNET error, 2 usage error
"""


class UsageError(Exception):
    """Bad command-line input: reported as ``prog: error: ...`` with exit status 2."""


# --- options -------------------------------------------------------------------------------


def _names(kind: str) -> str:
    """Installed backend / auth names for help texts (never fails)."""
    try:
        from pacsys.registry import get_registry

        registry = get_registry()
        names = registry.backend_names() if kind == "backend" else registry.auth_method_names()
    except Exception:
        return "see 'pacsys plugins'"
    return ", ".join(names) if names else "none installed"


class _InstalledHelp(str):
    """A help text naming the installed backends or auth methods, looked up only when
    ``--help`` formats it (argparse applies ``%`` then): a normal start loads no plugin."""

    kind: str

    def __new__(cls, template: str, kind: str) -> _InstalledHelp:
        text = super().__new__(cls, template)
        text.kind = kind
        return text

    def resolved(self) -> str:
        return str(self).replace("{names}", _names(self.kind))

    def __mod__(self, params: Any) -> str:
        return str.__mod__(self.resolved(), params)


class _ToolHelpFormatter(SizedHelpFormatter):
    """Resolves :class:`_InstalledHelp` itself (argparse may skip ``%`` without a ``%``)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        return text.resolved() if isinstance(text, _InstalledHelp) else text


def tool_parser(prog: str, description: str, examples: str) -> argparse.ArgumentParser:
    """The parser of an ac* tool: its examples and the shared environment help as epilog."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog=examples + "\n" + ENV_HELP,
        formatter_class=_ToolHelpFormatter,
    )
    add_version_option(parser)
    return parser


def add_version_option(parser: argparse.ArgumentParser) -> None:
    """``--version``: ``pacsys X.Y.Z``, read when asked so start-up stays cheap."""
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        from pacsys import __version__

        print(f"pacsys {__version__}")
        parser.exit()


def add_reference_options(
    parser: argparse.ArgumentParser, *, terse: bool = True, number_format: bool = True
) -> None:
    """0.3.0's output options: ``-t/--terse``, ``-f/--number-format``, ``-r/--range``."""
    if terse:
        parser.add_argument(
            "-t", "--terse", action="store_true", help="bare values only (overrides --format)"
        )
    if number_format:
        parser.add_argument(
            "-f",
            "--number-format",
            metavar="SPEC",
            help="Python format spec for every number, e.g. .3f, 08.2f, x, e",
        )
        parser.add_argument(
            "-r",
            "--range",
            metavar="RANGE",
            help="array elements to show: N, A:B or A:B:C (write -r=-5: for a leading minus)",
        )


def range_of(args: argparse.Namespace) -> int | slice | None:
    """The parsed ``-r``, or None; UsageError when it does not parse."""
    from pacsys.cli._refformat import parse_range

    text = getattr(args, "range", None)
    if text is None:
        return None
    try:
        return parse_range(text)
    except ValueError as exc:
        raise UsageError(f"invalid range: {exc}") from None


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """``-b``, ``-a``, ``-H/--host``, ``-P/--port``, ``--role``, ``--timeout``, ``--debug``."""
    group = parser.add_argument_group("connection")
    group.add_argument(
        "-b",
        "--backend",
        metavar="NAME",
        help=_InstalledHelp("backend to use (installed: {names}; default dpm)", "backend"),
    )
    group.add_argument(
        "-a",
        "--auth",
        metavar="METHOD",
        help=_InstalledHelp("authentication ({names}); default none", "auth"),
    )
    group.add_argument("-H", "--host", help="server host (default from PACSYS_DPM_HOST for dpm)")
    group.add_argument(
        "-P", "--port", type=_port, help="server port (default from PACSYS_DPM_PORT)"
    )
    group.add_argument("--role", help="role for writes, on backends that use roles")
    group.add_argument(
        "--timeout",
        type=_positive,
        metavar="SECONDS",
        help="timeout of each request (default PACSYS_TIMEOUT or 5)",
    )
    group.add_argument("--debug", action="store_true", help="log protocol details to stderr")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be an integer, got {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be from 1 to 65535, got {port}")
    return port


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def parse_drfs(drfs: Sequence[str]) -> list[DataRequest]:
    """Parse every DRF up front; UsageError names the first invalid one."""
    requests = []
    for drf in drfs:
        try:
            requests.append(parse_request(drf))
        except (ValueError, TypeError) as exc:
            raise UsageError(f"invalid DRF {drf!r}: {exc}") from None
    return requests


# --- backend -------------------------------------------------------------------------------


def timeout_of(args: argparse.Namespace) -> float:
    """The per-request timeout: ``--timeout``, else the simple API's default_timeout."""
    if getattr(args, "timeout", None) is not None:
        return float(args.timeout)
    from pacsys import _simple

    return float(_simple.current_settings().value("default_timeout"))


def _accepted_keywords(factory: Callable[..., Any]) -> set[str] | None:
    """Keyword names ``factory`` takes, or None when it takes any (``**kwargs``/unknown)."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.kind is not inspect.Parameter.POSITIONAL_ONLY}


def _backend_spec(args: argparse.Namespace) -> tuple[str, Any]:
    """The name (as declared: ``GRPC`` finds ``grpc``) and spec of the backend ``-b`` names."""
    from pacsys import _simple
    from pacsys.registry import get_registry

    registry = get_registry()
    name = args.backend or _simple.current_settings().value("backend")
    installed = registry.backend_names()
    try:
        name = registry.backend_key(name)
        return name, registry.backend(name)
    except ImportError as exc:  # a known transport that is not installed
        raise UsageError(f"{exc} (installed backends: {', '.join(installed) or 'none'})") from None
    except (ValueError, TypeError):
        import difflib  # only for the hint: not on a normal start

        close = difflib.get_close_matches(str(name).lower(), installed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(
            f"unknown backend {name!r}; installed backends: {', '.join(installed) or 'none'}" + hint
        ) from None


def backend_takes(args: argparse.Namespace, keyword: str) -> bool:
    """Whether the backend ``-b`` names declares ``keyword`` (``**kwargs`` promises nothing)."""
    _, spec = _backend_spec(args)
    try:
        parameters = inspect.signature(spec.load()).parameters
    except (TypeError, ValueError):
        return False
    found = parameters.get(keyword)
    return found is not None and found.kind is not inspect.Parameter.POSITIONAL_ONLY


def open_backend(args: argparse.Namespace, extra: dict[str, Any] | None = None) -> Backend:
    """Create the backend the options name, with auth, host, port, role and timeout applied.

    ``extra`` keywords go to the factory as given (check :func:`backend_takes` first).
    """
    from pacsys import _simple

    settings = _simple.current_settings()
    name, spec = _backend_spec(args)
    factory = spec.load()
    accepted = _accepted_keywords(factory)
    kwargs: dict[str, Any] = {}
    for keyword, setting in spec.settings.items():
        value = settings.value(setting)
        if value is not None:
            kwargs[keyword] = value

    def give(keyword: str, value: Any, option: str) -> None:
        if accepted is not None and keyword not in accepted:
            raise UsageError(f"backend {name!r} does not take {option}")
        kwargs[keyword] = value

    if args.host is not None:
        give("host", args.host, "--host")
    if args.port is not None:
        give("port", args.port, "--port")
    if args.role is not None:
        if not spec.uses_role:
            raise UsageError(f"backend {name!r} does not use --role")
        give("role", args.role, "--role")
    if accepted is None or "timeout" in accepted:
        kwargs["timeout"] = timeout_of(args)
    if args.auth is not None:
        kwargs["auth"] = _make_auth(args.auth, spec, name)
        if accepted is not None and "auth" not in accepted:
            raise UsageError(f"backend {name!r} does not take --auth")
    elif spec.auth_required:
        raise UsageError(f"backend {name!r} requires -a/--auth ({', '.join(spec.auth_kinds)})")
    kwargs.update(extra or {})
    return factory(**kwargs)


def _make_auth(method: str, spec: Any, backend: str) -> Any:
    from pacsys.registry import get_registry

    registry = get_registry()
    names = registry.auth_method_names()
    if method not in names:
        raise UsageError(f"unknown auth method {method!r}; installed: {', '.join(names)}")
    auth_spec = registry.auth_method(method)
    if not spec.auth_kinds:
        raise UsageError(f"backend {backend!r} does not use authentication")
    if auth_spec.name not in spec.auth_kinds:
        raise UsageError(
            f"backend {backend!r} accepts auth {', '.join(spec.auth_kinds)}, not {method!r}"
        )
    return auth_spec.load()()


# --- running -------------------------------------------------------------------------------


def print_error(prog: str, text: str) -> None:
    """One line on stderr, prefixed with the tool name."""
    print(f"{prog}: {text}", file=sys.stderr, flush=True)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each record."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


_LOG_HANDLER = _StderrHandler()
_LOG_HANDLER.setFormatter(logging.Formatter("%(name)s: %(levelname)s: %(message)s"))
_LOGGERS = (
    "pacsys",
    "pacsys_dpm",
    "pacsys_grpc",
    "pacsys_dmq",
    "pacsys_acl",
    "pacsys_ssh",
    "pacsys_acnet",
)


def _setup_logging(debug: bool) -> None:
    """Library warnings (reconnects, ...) to stderr; everything with ``--debug``."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _LOG_HANDLER not in logger.handlers:
            logger.addHandler(_LOG_HANDLER)
        logger.setLevel(logging.DEBUG if debug else logging.WARNING)


def silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class StopRequest:
    """SIGINT (Ctrl-C) and SIGTERM as a request to stop, which a tool's loop polls.

    The handler only sets :attr:`requested`: raising inside library code, or taking a lock
    there (``Event.set``), from a signal handler can leave a lock held or deadlock.  A
    second signal, while the first is still unanswered, raises KeyboardInterrupt.
    """

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def is_set(self) -> bool:
        """Whether a stop was requested (as ``threading.Event.is_set``)."""
        return self.requested


@contextlib.contextmanager
def on_stop_signals(handler: Callable[[int, object], None]) -> Iterator[None]:
    """``handler`` for SIGINT and SIGTERM in the main thread; the previous ones after.

    Installed even when SIGINT arrived ignored (a background job of a non-interactive
    shell), where Python would not raise KeyboardInterrupt: Ctrl-C must always stop a tool.
    Elsewhere than the main thread (tests running a tool in a thread) nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        for signum in previous:
            signal.signal(signum, handler)
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old if old is not None else signal.SIG_DFL)


def report_exception(prog: str, exc: BaseException) -> int:
    """Print ``exc`` as one readable stderr line (status name included); return exit code."""
    from pacsys.acnet.errors import AcnetError
    from pacsys.errors import DeviceError, PacsysError, ReadError

    if isinstance(exc, DeviceError):
        print_error(prog, device_error(exc.drf, exc.facility_code, exc.error_code, exc.message))
    elif isinstance(exc, ReadError):
        failed = [r for r in exc.readings if not r.ok]
        for r in failed:
            print_error(prog, device_error(r.drf, r.facility_code, r.error_code, r.message))
        if not failed:
            print_error(prog, exc.message)
    elif isinstance(exc, AcnetError):
        name = status_name(exc.facility, exc.error_number)
        print_error(prog, f"{name}: {exc.message or exc}")
    elif isinstance(exc, PacsysError):
        print_error(prog, f"{type(exc).__name__}: {exc}")
    elif isinstance(exc, NotImplementedError):
        print_error(prog, str(exc) or "not supported by this backend")
    elif isinstance(exc, TimeoutError):
        print_error(prog, f"timeout: {exc}" if str(exc) else "timeout")
    else:
        print_error(prog, f"{type(exc).__name__}: {exc}")
    return EXIT_DEVICE


def run_tool(
    prog: str,
    parser: argparse.ArgumentParser,
    body: Callable[[argparse.Namespace], int],
    argv: Sequence[str] | None,
) -> int:
    """Parse ``argv`` and run ``body``; map every failure to a message and an exit code.

    Options may follow positionals (``acget A B --raw C``).
    """
    args = parse_intermixed(parser, argv)
    _setup_logging(getattr(args, "debug", False))
    try:
        with on_stop_signals(_interrupt):
            code = body(args)
        sys.stdout.flush()
        return code
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print_error(prog, f"error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        silence_stdout()
        return EXIT_OK
    except Exception as exc:
        from pacsys.errors import PacsysError

        expected = (PacsysError, OSError, ValueError, RuntimeError, NotImplementedError)
        if not isinstance(exc, expected):
            raise  # a bug: keep the traceback
        if getattr(args, "debug", False):
            traceback.print_exc()
        return report_exception(prog, exc)
