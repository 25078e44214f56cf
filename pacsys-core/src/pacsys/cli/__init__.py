"""The ``pacsys`` command: ``plugins``, ``demo``, ``serve`` and ``--version``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pacsys.cli._options import silence_stdout

__all__ = ["main"]

EPILOG = """examples:
  pacsys plugins            list installed plugins, their backends and capabilities
  pacsys plugins --json     the same as JSON
  pacsys demo               read, stream and write against the in-process simulator
  pacsys serve              serve the simulator over every installed wire protocol
"""


def build_parser() -> argparse.ArgumentParser:
    # Imported here, not at module level: every ac* tool imports this package first.
    from pacsys import __version__
    from pacsys.cli import demo, plugins, serve

    parser = argparse.ArgumentParser(
        prog="pacsys",
        description="pacsys: read, write and stream ACNET device data.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pacsys {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    plugins.add_parser(commands)
    demo.add_parser(commands)
    serve.add_parser(commands)
    from pacsys.cli._options import add_version_option

    for command in commands.choices.values():  # ``pacsys serve --version`` too
        add_version_option(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        code = int(args.run(args) or 0)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # piped into head & co.: stop quietly
        silence_stdout()
        return 0
