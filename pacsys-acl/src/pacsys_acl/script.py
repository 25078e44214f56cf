"""Pure parsing of ACL script text: commands, qualifiers, arguments and expression tokens.

A script is lines; each line holds commands separated by ``;`` (outside quotes).  A command
is ``verb[/qual[=value]]... arguments`` or an assignment ``name = expression``.  Errors raise
:class:`ACLSyntaxError`, which the interpreter renders as a ``CLIB_SYNTAX`` error line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs

__all__ = [
    "ACLSyntaxError",
    "Command",
    "Qualifier",
    "Token",
    "parse_command",
    "parse_script",
    "split_args",
    "split_qualifiers",
    "split_script",
    "tokenize",
]


class ACLSyntaxError(ValueError):
    """Script text ACL cannot parse; ``line`` is the 1-based script line."""

    def __init__(self, description: str, line: int) -> None:
        self.description = description
        self.line = line
        super().__init__(f"{description} at line {line}")


@attrs.frozen
class Qualifier:
    """``/name`` or ``/name=value`` (name lower-cased, quotes removed from the value)."""

    name: str
    value: str | None = None

    def __str__(self) -> str:
        return f"/{self.name}" if self.value is None else f"/{self.name}={self.value}"


@attrs.frozen
class Command:
    """One parsed command; ``assignment`` is ``(variable, expression)`` for ``x = expr``."""

    line: int
    text: str
    verb: str
    qualifiers: tuple[Qualifier, ...] = ()
    rest: str = ""
    assignment: tuple[str, str] | None = None


@attrs.frozen
class Token:
    """An expression token: kind is ``num``, ``str``, ``name`` or ``op``."""

    kind: str
    text: str


def _split_outside_quotes(text: str, is_separator: Callable[[str], bool], line: int) -> list[str]:
    """Split ``text`` at separator characters that are not inside '...' or "..." quotes."""
    parts: list[str] = []
    current: list[str] = []
    quote: str | None = None
    for char in text:
        if quote is not None:
            current.append(char)
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
            current.append(char)
        elif is_separator(char):
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if quote is not None:
        raise ACLSyntaxError("Unterminated quoted string", line)
    parts.append("".join(current))
    return parts


def split_script(script: str) -> list[tuple[int, str]]:
    """``(line number, command text)`` for every non-empty command, in order."""
    commands: list[tuple[int, str]] = []
    for number, line in enumerate(script.splitlines(), start=1):
        for part in _split_outside_quotes(line, ";".__eq__, number):
            text = part.strip()
            if text:
                commands.append((number, text))
    return commands


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def split_qualifiers(text: str, line: int) -> tuple[str, tuple[Qualifier, ...]]:
    """``M:OUTTMP/raw/event='e,02'`` -> ``("M:OUTTMP", (raw, event=e,02))``."""
    head, *quals = _split_outside_quotes(text, "/".__eq__, line)
    parsed: list[Qualifier] = []
    for qual in quals:
        name, sep, value = qual.partition("=")
        name = name.strip().lower()
        if not name:
            raise ACLSyntaxError(f"Empty qualifier in ({text})", line)
        parsed.append(Qualifier(name, _unquote(value.strip()) if sep else None))
    return head.strip(), tuple(parsed)


def split_args(text: str, line: int) -> list[str]:
    """Whitespace-separated arguments, keeping quoted strings (with spaces) whole."""
    return [arg for arg in _split_outside_quotes(text, str.isspace, line) if arg]


_ASSIGNMENT = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\s*=(?!=)\s*(.*)$", re.DOTALL)
_VERB = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)((?:/\S*)?)(?:\s+(.*))?$", re.DOTALL)


def parse_command(text: str, line: int) -> Command:
    """Parse one command (no ``;`` inside) into verb, command qualifiers and arguments."""
    assignment = _ASSIGNMENT.match(text)
    if assignment is not None:
        name, expression = assignment.groups()
        if not expression.strip():
            raise ACLSyntaxError(f"Missing value in assignment to ({name})", line)
        return Command(line, text, "=", assignment=(name, expression.strip()))
    match = _VERB.match(text)
    if match is None:
        raise ACLSyntaxError(f"Invalid command ({text})", line)
    verb, quals, rest = match.groups()
    qualifiers: tuple[Qualifier, ...] = ()
    if quals:
        _, qualifiers = split_qualifiers(verb + quals, line)
    return Command(line, text, verb.lower(), qualifiers, (rest or "").strip())


def parse_script(script: str) -> list[Command]:
    """Every command of ``script``; ACLSyntaxError on the first unparsable one."""
    return [parse_command(text, line) for line, text in split_script(script)]


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'[^']*'|"[^"]*")
      | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<name>[A-Za-z$][A-Za-z0-9_:?|&@$~^#!.\[\]{}]*)
      | (?P<op>[-+*/(),])
    )""",
    re.VERBOSE,
)


def tokenize(text: str, line: int) -> list[Token]:
    """Expression tokens: numbers, quoted strings, names (variables or devices), operators."""
    tokens: list[Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ACLSyntaxError(f"Invalid expression ({text[position:].strip()})", line)
        kind = match.lastgroup
        assert kind is not None
        value = match.group(kind)
        tokens.append(Token(kind, value[1:-1] if kind == "str" else value))
        position = match.end()
    return tokens
