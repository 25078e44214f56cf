"""argparse pieces of the ac* tools that keep a normal start cheap.

argparse builds a help formatter for every ``add_argument`` (the stock one imports shutil,
and with it the compression modules, to size itself) and ``parse_intermixed_args`` formats
the whole usage line before parsing, for error messages only. Here the formatter sizes
itself with :mod:`os` alone and the usage line is formatted only when printed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any


def _terminal_width() -> int:
    """What ``shutil.get_terminal_size().columns`` answers, without importing shutil (and
    its compression modules): argparse builds a formatter for every ``add_argument``."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class SizedHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """``RawDescriptionHelpFormatter`` that finds the terminal width without shutil."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        width = _terminal_width() - 2 if width is None else width
        super().__init__(prog, indent_increment, max_help_position, width)


class _DeferredUsage(str):
    """Stands in for ``parser.usage`` while ``parse_intermixed_args`` runs: that formats the
    whole usage line up front, for error messages only; this formats the same text only
    when a message prints it (argparse applies ``%`` to a usage it is given)."""

    parser: argparse.ArgumentParser

    def __new__(cls, parser: argparse.ArgumentParser) -> _DeferredUsage:
        text = super().__new__(cls, "")
        text.parser = parser
        return text

    def __mod__(self, params: Any) -> str:
        parser = self.parser
        with _as_declared(parser):
            formatter = parser._get_formatter()
            formatter.add_usage(None, parser._actions, parser._mutually_exclusive_groups)
            text = formatter.format_help()[len("usage: ") :]
        return str.__mod__(text, params)


@contextlib.contextmanager
def _as_declared(parser: argparse.ArgumentParser) -> Iterator[None]:
    """Undo, for a moment, what ``parse_intermixed_args`` changes while it parses (it
    suppresses positionals, then makes optionals optional, keeping the declared values in
    ``save_nargs``/``save_required``): the usage shows the parser as declared."""
    actions: list[Any] = [*parser._actions, *parser._mutually_exclusive_groups]
    saved = [(item, item.__dict__.get("nargs"), item.required) for item in actions]
    try:
        for item in actions:
            if getattr(item, "nargs", None) == argparse.SUPPRESS and hasattr(item, "save_nargs"):
                item.nargs = item.save_nargs
            if hasattr(item, "save_required"):
                item.required = item.save_required
        yield
    finally:
        for item, nargs, required in saved:
            if "nargs" in item.__dict__:
                item.nargs = nargs
            item.required = required


def parse_intermixed(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace:
    """``parser.parse_intermixed_args(argv)``, its usage line formatted only if printed."""
    if parser.usage is not None:
        return parser.parse_intermixed_args(argv)
    parser.usage = _DeferredUsage(parser)
    try:
        return parser.parse_intermixed_args(argv)
    finally:
        parser.usage = None
