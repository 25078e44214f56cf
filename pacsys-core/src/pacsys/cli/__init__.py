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
  pacsys demo               {demo}
  pacsys serve              serve the simulator over every installed wire protocol
  pacsys --version          the pacsys version and every installed pacsys distribution
"""

#: pacsys' own distributions, listed by ``--version`` when installed.
DISTRIBUTIONS = (
    "pacsys-core",
    "pacsys-dpm",
    "pacsys-grpc",
    "pacsys-dmq",
    "pacsys-acl",
    "pacsys-ssh",
    "pacsys-acnet",
)


def version_text() -> str:
    """``pacsys 0.1.0 (pacsys-core 0.1.0, pacsys-dpm 0.1.0)``: what a bug report needs."""
    from pacsys import __version__
    from pacsys._provided import distribution_version

    found = [(d, distribution_version(d)) for d in DISTRIBUTIONS]
    listed = ", ".join(f"{d} {v}" for d, v in found if v is not None)
    return f"pacsys {__version__} ({listed})" if listed else f"pacsys {__version__}"


class _Version(argparse.Action):
    """``--version``, computed only when asked (reading distribution metadata costs time)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the versions and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(version_text())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    # Imported here, not at module level: every ac* tool imports this package first.
    from pacsys.cli import demo, plugins, serve

    parser = argparse.ArgumentParser(
        prog="pacsys",
        description="pacsys: read, write and stream ACNET device data.",
        epilog=EPILOG.format(demo=demo.HELP),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
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
