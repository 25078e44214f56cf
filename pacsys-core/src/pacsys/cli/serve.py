"""``pacsys serve``: the simulator behind every installed server adapter, until Ctrl-C.

Each adapter plugin declares a :class:`~pacsys.hookspecs.ServerSpec`; its ``option``
(``--dpm-port``) becomes a flag here, so new adapters need no change to this command.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from typing import Any, TextIO

from pacsys.cli._format import redact_url
from pacsys.cli._options import StopRequest, on_stop_signals
from pacsys.hookspecs import ServerSpec

__all__ = ["add_parser", "run", "serve"]

#: How often the serving loop looks for a stop request (Ctrl-C, SIGTERM, ``stop``).
POLL = 0.25

EPILOG = """examples:
  pacsys serve                          every installed adapter on its default port
  pacsys serve --dpm-port 16802         move one adapter
  pacsys serve --catalogue my.json      add your own devices (docs/simulator.md)

then, in another shell, export the printed variables and use pacsys as usual.
"""


#: The options of pacsys' own server adapters, with the distribution providing each: they are
#: recognised even when that distribution is missing, and answered with what to install.
KNOWN_OPTIONS: dict[str, str] = {
    "--dpm-port": "pacsys-dpm",
    "--grpc-port": "pacsys-grpc",
    "--acl-port": "pacsys-acl",
    "--dmq-url": "pacsys-dmq",
    "--acnet-port": "pacsys-acnet",
}
MISSING_DEST = "missing_adapters"


class _NotInstalled(argparse.Action):
    """Records an option whose adapter is not installed; ``run`` reports them all at once."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        missing = list(getattr(namespace, MISSING_DEST, None) or [])
        if option_string not in missing:
            missing.append(option_string)
        setattr(namespace, MISSING_DEST, missing)


def missing_adapters_message(options: list[str]) -> str:
    """One line: which options need which uninstalled distribution, and the pip line."""
    dists = list(dict.fromkeys(KNOWN_OPTIONS[o] for o in options))
    needs = ", ".join(f"{o} needs {KNOWN_OPTIONS[o]}" for o in options)
    return f"pacsys serve: {needs} (not installed): pip install {' '.join(dists)}"


def _dest(spec: ServerSpec) -> str:
    return "server_" + spec.name.replace("-", "_")


def _option(spec: ServerSpec) -> str:
    return spec.option or f"--{spec.name}-port"


def _specs() -> list[ServerSpec]:
    from pacsys.registry import get_registry

    try:
        return sorted(get_registry().servers().values(), key=lambda s: s.name)
    except (ValueError, TypeError) as exc:  # conflicting or malformed plugin declarations
        print(f"pacsys serve: ignoring server plugins: {exc}", file=sys.stderr)
        return []


def add_parser(commands: Any) -> None:
    """Add the ``serve`` subcommand (one port option per installed server) to ``pacsys``."""
    parser = commands.add_parser(
        "serve",
        help="serve the simulator over every installed wire protocol",
        description="Start the pacsys simulator and expose it through every installed server "
        "adapter (DPM, gRPC, ACL, DMQ, ...), printing where and how clients connect. "
        "Runs until Ctrl-C or SIGTERM.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--catalogue",
        metavar="FILE",
        help="JSON device catalogue added to the shipped one (default: $PACSYS_SIM_CATALOGUE)",
    )
    taken = {"--catalogue", "--help", "-h"}
    for spec in _specs():
        option = _option(spec)
        if option in taken:
            print(f"pacsys serve: {spec.name}: option {option} already used", file=sys.stderr)
            continue
        taken.add(option)
        default = f" (default {redact_url(spec.default)})" if spec.default is not None else ""
        parser.add_argument(
            option,
            dest=_dest(spec),
            type=spec.option_type,
            default=spec.default,
            metavar=spec.option_kwarg.upper(),
            help=f"{spec.description or spec.name}{default}".replace("%", "%%"),
        )
    for option, distribution in KNOWN_OPTIONS.items():
        if option not in taken:
            parser.add_argument(
                option,
                action=_NotInstalled,
                metavar="VALUE",
                help=f"needs {distribution}, which is not installed",
            )
    parser.set_defaults(run=run, **{MISSING_DEST: []})


def serve(
    backend: Any,
    specs: list[ServerSpec],
    values: dict[str, Any],
    *,
    stop: threading.Event | StopRequest,
    out: TextIO | None = None,
    ready: threading.Event | None = None,
) -> int:
    """Start one endpoint per spec around ``backend``, print them, wait for ``stop``.

    ``ready`` is set once everything that could start has started and been printed.
    """
    out = out if out is not None else sys.stdout
    started = 0
    with contextlib.ExitStack() as stack:
        exports: dict[str, str] = {}
        for spec in specs:
            value = values.get(spec.name, spec.default)
            kwargs = {} if value is None else {spec.option_kwarg: value}
            try:
                endpoint = stack.enter_context(spec.load()(backend, **kwargs))
            except Exception as exc:
                print(f"  {spec.name:<8} FAILED to start: {type(exc).__name__}: {exc}", file=out)
                continue
            started += 1
            print(f"  {spec.name:<8} {endpoint.address:<28} {spec.description}", file=out)
            env = dict(endpoint.client_env())
            for key, val in env.items():
                print(f"  {'':<8} {key}={val}", file=out)
            exports.update(env)
        if not started:
            print("No server adapter could be started.", file=out)
            return 1
        if exports:
            print("\nPoint pacsys clients here with:", file=out)
            print("  export " + " ".join(f"{k}={v}" for k, v in exports.items()), file=out)
        print("\nServing; press Ctrl-C to stop.", file=out, flush=True)
        if ready is not None:
            ready.set()
        while not stop.is_set():  # polled: a signal handler only sets a flag
            time.sleep(POLL)
        print("Stopping...", file=out, flush=True)
    print("Stopped.", file=out, flush=True)
    return 0


def run(
    args: argparse.Namespace,
    stop: threading.Event | None = None,
    *,
    out: TextIO | None = None,
    ready: threading.Event | None = None,
) -> int:
    """The ``serve`` command; ``stop``/``out``/``ready`` let tests drive it in-process."""
    from pacsys.sim import CatalogueError, SimBackend

    missing = getattr(args, MISSING_DEST, None)
    if missing:
        print(missing_adapters_message(missing), file=sys.stderr)
        return 2
    specs = [s for s in _specs() if hasattr(args, _dest(s))]
    if not specs:
        print(
            "No server adapters are installed, so there is nothing to serve.\n"
            "Install one or more of: pacsys-dpm, pacsys-grpc, pacsys-acl, pacsys-dmq\n"
            "(or use the simulator in-process: pacsys.configure(backend='sim')).",
            file=sys.stderr,
        )
        return 1
    try:
        backend = SimBackend(catalogue=args.catalogue)
    except (CatalogueError, OSError) as exc:
        print(f"pacsys serve: {exc}", file=sys.stderr)
        return 2
    request = StopRequest()
    values = {s.name: getattr(args, _dest(s)) for s in specs}
    with backend, on_stop_signals(request):
        where = f"shipped + {args.catalogue}" if args.catalogue else "shipped"
        print(
            f"pacsys simulator: {len(backend.catalogue)} devices (catalogue: {where})",
            file=out if out is not None else sys.stdout,
        )
        return serve(backend, specs, values, stop=stop or request, out=out, ready=ready)
