"""Checks an ACL command before anything runs: verbs, qualifiers, targets.

See docs/protocols/acl.md §4.5.

A script with any syntax error runs nothing; these checks raise :class:`ACLSyntaxError`.
"""

from __future__ import annotations

from pacsys.types import BasicControl
from pacsys_acl.script import ACLSyntaxError, Command, split_args, split_qualifiers, tokenize

# The basic-control verbs: on, off, reset, positive, negative, ramp, dc, local, remote, trip.
CONTROL_VERBS = {member.name.lower(): member for member in BasicControl}

# Allowed command qualifiers per verb.
COMMAND_QUALIFIERS: dict[str, frozenset[str]] = {
    "=": frozenset(),
    "read": frozenset({"pendwait", "no_name", "no_units"}),
    "set": frozenset(),
    "show": frozenset(),
    "print": frozenset(),
    "exit": frozenset(),
    "device_list": frozenset({"create"}),
    "read_list": frozenset({"no_name", "no_units", "pendwait"}),
    **{verb: frozenset() for verb in CONTROL_VERBS},
}
_DEVICE_QUALIFIERS = frozenset({"raw", "event", "setting", "reading"})


def validate_target(arg: str, line: int) -> None:
    """A device argument with its ``/qualifiers``, checked before anything runs."""
    target, qualifiers = split_qualifiers(arg, line)
    if not target:
        raise ACLSyntaxError(f"Missing device name before ({arg})", line)
    for qualifier in qualifiers:
        if qualifier.name not in _DEVICE_QUALIFIERS:
            raise ACLSyntaxError(f"Invalid device qualifier ({qualifier})", line)
        if qualifier.name == "event" and not qualifier.value:
            raise ACLSyntaxError("Missing event in /event qualifier", line)


def validate_command(command: Command) -> None:
    """Raise :class:`ACLSyntaxError` if ``command`` cannot run (unknown verb, bad qualifier...)."""
    verb, line = command.verb, command.line
    if verb not in COMMAND_QUALIFIERS:
        raise ACLSyntaxError(f"Unknown command ({verb})", line)
    allowed = COMMAND_QUALIFIERS[verb]
    for qualifier in command.qualifiers:
        if qualifier.name not in allowed:
            raise ACLSyntaxError(f"Invalid qualifier ({qualifier}) in {verb} command", line)
    if command.assignment is not None:
        tokenize(command.assignment[1], line)
        return
    args = split_args(command.rest, line)
    if verb == "read":
        if not args:
            raise ACLSyntaxError("Missing device name in read command", line)
        for arg in args:
            validate_target(arg, line)
    elif verb == "set":
        if len(args) < 2:
            raise ACLSyntaxError("set needs a device or variable and a value", line)
        validate_target(args[0], line)
        tokenize(command.rest[command.rest.index(args[0]) + len(args[0]) :], line)
    elif verb in CONTROL_VERBS or verb == "show":
        if not args:
            raise ACLSyntaxError(f"Missing device name in {verb} command", line)
    elif verb == "print":
        tokenize(command.rest, line)
