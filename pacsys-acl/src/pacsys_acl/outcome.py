"""What one ACL run produces and how it fails: scope, outcome, error lines.

See docs/protocols/acl.md §4.5 and §12.

A failing command raises :class:`Abort` carrying the ACL error text; :class:`Context` builds
those lines for one command (its line number, the ``CLIB_SYNTAX``/``DBM_NOREC`` forms).
"""

from __future__ import annotations

from typing import Any

import attrs

from pacsys.acnet.status import AcnetFacility, lookup, make_error
from pacsys.drf3 import parse_request
from pacsys_acl.parse import is_error_line
from pacsys_acl.render import error_line
from pacsys_acl.script import Command

SYNTAX = "CLIB_SYNTAX"
NO_SUCH_DEVICE = "DBM_NOREC"
NO_ATTRIBUTE = "DIO_NOATT"

_NO_SUCH_DEVICE_STATUS = frozenset(
    {make_error(17, -26), make_error(14, -17), make_error(15, -28)}
)  # DPM_NO_SUCH_DEVICE, DIO_NO_SUCH, FTP_NO_SUCH_DEVICE
_NO_PROPERTY_STATUS = frozenset({make_error(16, -13), make_error(17, -27)})


@attrs.define
class ACLScope:
    """Variables and device lists of one script execution."""

    variables: dict[str, Any] = attrs.field(factory=dict)
    device_lists: dict[str, list[str]] = attrs.field(factory=dict)


@attrs.frozen
class ACLOutcome:
    """Result of a script: printed blocks in order, and the error line that stopped it."""

    outputs: tuple[str, ...] = ()
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def text(self) -> str:
        """Blocks joined by a blank line, as ACL prints them on a terminal."""
        return "\n\n".join(self.outputs)

    @property
    def lines(self) -> list[str]:
        """Every output line, no blank ones (the CGI body)."""
        return [line for block in self.outputs for line in block.splitlines() if line.strip()]


class Abort(Exception):
    """A command failed: ``line`` is the ACL error text; the script stops."""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line


class ExitScript(Exception):
    """The ``exit`` command."""


def acl_code(facility: int, error: int) -> str:
    """ACL-style code name for an ACNET status (named code, else ``<FACILITY>_ERROR_<n>``)."""
    composite = make_error(facility, error)
    if composite in _NO_PROPERTY_STATUS:
        return "DBM_NOPROP"
    code = lookup(facility, error)
    if code is None and facility == 0:
        code = lookup(AcnetFacility.ACNET, error)
    if code is not None:
        return code.name
    try:
        prefix = AcnetFacility(facility).name
    except ValueError:
        prefix = "ACNET"
    return f"{prefix}_ERROR_{abs(error)}"


def is_device(text: str) -> bool:
    """Whether ``text`` names an ACNET device (a DRF request), not a variable."""
    try:
        return parse_request(text).is_acnet
    except (ValueError, TypeError):
        return False


class Context:
    """Per-command helpers bound to the interpreter, the scope and the command."""

    def __init__(self, scope: ACLScope, command: Command) -> None:
        self.scope = scope
        self.command = command

    def at(self, description: str) -> str:
        return f"{description} at line {self.command.line}"

    def syntax(self, description: str) -> Abort:
        return Abort(error_line(self.at(description), SYNTAX))

    def device_error(
        self, verb: str, device: str, facility: int, error: int, message: str | None
    ) -> Abort:
        """The error line for a failed device access (ACL text from the source is kept)."""
        if message and is_error_line(message) and not message.lstrip().startswith("!"):
            return Abort(message.strip())  # already ACL text (e.g. proxied from a real CGI)
        if make_error(facility, error) in _NO_SUCH_DEVICE_STATUS:
            return Abort(
                error_line(
                    self.at(f"Invalid device name ({device}) in {verb} device command"),
                    NO_SUCH_DEVICE,
                )
            )
        code = acl_code(facility, error)
        return Abort(error_line(self.at(f"Error in {verb} device command"), code, device))
