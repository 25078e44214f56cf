"""ACLInterpreter: the subset of ACL the emulators need, run over any pacsys Backend.

>>> interp = ACLInterpreter(backend)
>>> interp.execute("read M:OUTTMP")
'M:OUTTMP       =  72.500 DegF'

Commands: ``read`` (command qualifiers ``/pendwait /no_name /no_units``; device qualifiers
``/raw /event='...' /setting /reading``), ``set <device|variable> <expression>``,
``show <device|variable>``, ``print <items>``, ``name = <expression>``, the basic-control
verbs ``on off reset positive negative ramp dc local remote trip``,
``device_list/create <name> devices='A,B'``, ``read_list[/no_name/no_units]
device_list=<name>`` and ``exit``.  Expressions: numbers, quoted strings, variables,
device names (read), ``+ - * /`` and parentheses.

Error policy (decided from docs/protocols/acl.md §4.5 and §12): ACL reports problems as text, so
``execute``/``run`` never raise for script content.  A syntax error anywhere (unknown
command, bad qualifier, unterminated string, ...) is found before anything runs and
yields the single line ``<description> at line N - CLIB_SYNTAX``; a failing command
(device error, failed setting) adds its error line and stops the script, keeping the
output produced so far.  ``ACLSyntaxError`` (a ValueError) is raised only with
``strict=True``; a non-string script raises TypeError.

Output: each command that prints produces one block (normally one line); ``execute``
joins the blocks with a blank line, as ACL's terminal does (``read A; read B`` ->
``"A...\\n\\nB..."``).  ``run`` returns the blocks and the failure separately, which the
CGI emulator (one line per command) and an ``acl`` program (exit status) need.
Variables live for one ``run`` unless the caller passes the same :class:`ACLScope`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np

from pacsys.acnet.status import AcnetFacility, lookup, make_error
from pacsys.backends import Backend, check_positive
from pacsys.drf3 import DRF_FIELD, DRF_PROPERTY, DataRequest, parse_event, parse_request
from pacsys.drf_utils import prepare_for_control
from pacsys.errors import AuthenticationError, DeviceError, PacsysError, ReadError
from pacsys.types import BasicControl, Reading, ValueType
from pacsys_acl.expression import Expression
from pacsys_acl.parse import is_error_line
from pacsys_acl.render import (
    alarm_line,
    array_line,
    error_line,
    format_value,
    raw_line,
    scalar_line,
    status_line,
    text_line,
)
from pacsys_acl.script import (
    ACLSyntaxError,
    Command,
    Qualifier,
    Token,
    parse_script,
    split_args,
    split_qualifiers,
    tokenize,
)

__all__ = ["ACLInterpreter", "ACLOutcome", "ACLScope", "ACLSyntaxError"]

log = logging.getLogger("pacsys_acl.interpreter")

SYNTAX = "CLIB_SYNTAX"
NO_SUCH_DEVICE = "DBM_NOREC"
NO_ATTRIBUTE = "DIO_NOATT"

_NO_SUCH_DEVICE_STATUS = frozenset(
    {make_error(17, -26), make_error(14, -17), make_error(15, -28)}
)  # DPM_NO_SUCH_DEVICE, DIO_NO_SUCH, FTP_NO_SUCH_DEVICE
_NO_PROPERTY_STATUS = frozenset({make_error(16, -13), make_error(17, -27)})

_STATUS_WORDS: dict[DRF_FIELD, tuple[str, str]] = {
    DRF_FIELD.ON: ("on", "on"),
    DRF_FIELD.READY: ("ready", "ready"),
    DRF_FIELD.REMOTE: ("remote", "remote"),
    DRF_FIELD.POSITIVE: ("positive", "positive"),
    DRF_FIELD.RAMP: ("ramp", "ramping"),
}

# Alarm-block fields: (label printed after "alarm", key in an alarm dict).
_ALARM_FIELDS: dict[DRF_FIELD, tuple[str, str]] = {
    DRF_FIELD.MIN: ("minimum", "minimum"),
    DRF_FIELD.MAX: ("maximum", "maximum"),
    DRF_FIELD.NOM: ("nominal", "nominal"),
    DRF_FIELD.TOL: ("tolerance", "tolerance"),
    DRF_FIELD.RAW_MIN: ("raw minimum", "raw_minimum"),
    DRF_FIELD.RAW_MAX: ("raw maximum", "raw_maximum"),
    DRF_FIELD.RAW_NOM: ("raw nominal", "raw_nominal"),
    DRF_FIELD.RAW_TOL: ("raw tolerance", "raw_tolerance"),
    DRF_FIELD.ALARM_ENABLE: ("enable", "alarm_enable"),
    DRF_FIELD.ALARM_STATUS: ("status", "alarm_status"),
    DRF_FIELD.TRIES_NEEDED: ("tries needed", "tries_needed"),
    DRF_FIELD.TRIES_NOW: ("tries now", "tries_now"),
    DRF_FIELD.ABORT: ("abort", "abort"),
    DRF_FIELD.ABORT_INHIBIT: ("abort inhibit", "abort_inhibit"),
    DRF_FIELD.FLAGS: ("flags", "flags"),
    DRF_FIELD.MASK: ("mask", "mask"),
}
_ALARM_PROPERTIES = frozenset(
    {DRF_PROPERTY.READING, DRF_PROPERTY.SETTING, DRF_PROPERTY.ANALOG, DRF_PROPERTY.DIGITAL}
)

# The basic-control verbs: on, off, reset, positive, negative, ramp, dc, local, remote, trip.
_CONTROL_VERBS = {member.name.lower(): member for member in BasicControl}

# Allowed command qualifiers per verb.
_COMMAND_QUALIFIERS: dict[str, frozenset[str]] = {
    "=": frozenset(),
    "read": frozenset({"pendwait", "no_name", "no_units"}),
    "set": frozenset(),
    "show": frozenset(),
    "print": frozenset(),
    "exit": frozenset(),
    "device_list": frozenset({"create"}),
    "read_list": frozenset({"no_name", "no_units", "pendwait"}),
    **{verb: frozenset() for verb in _CONTROL_VERBS},
}
_DEVICE_QUALIFIERS = frozenset({"raw", "event", "setting", "reading"})


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


class _Abort(Exception):
    """A command failed: ``line`` is the ACL error text; the script stops."""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line


class _Exit(Exception):
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


def _is_device(text: str) -> bool:
    try:
        return parse_request(text).is_acnet
    except (ValueError, TypeError):
        return False


class _Context:
    """Per-command helpers bound to the interpreter, the scope and the command."""

    def __init__(self, interp: ACLInterpreter, scope: ACLScope, command: Command) -> None:
        self.interp = interp
        self.scope = scope
        self.command = command

    def at(self, description: str) -> str:
        return f"{description} at line {self.command.line}"

    def syntax(self, description: str) -> _Abort:
        return _Abort(error_line(self.at(description), SYNTAX))

    def device_error(
        self, verb: str, device: str, facility: int, error: int, message: str | None
    ) -> _Abort:
        """The error line for a failed device access (ACL text from the source is kept)."""
        if message and is_error_line(message) and not message.lstrip().startswith("!"):
            return _Abort(message.strip())  # already ACL text (e.g. proxied from a real CGI)
        if make_error(facility, error) in _NO_SUCH_DEVICE_STATUS:
            return _Abort(
                error_line(
                    self.at(f"Invalid device name ({device}) in {verb} device command"),
                    NO_SUCH_DEVICE,
                )
            )
        code = acl_code(facility, error)
        return _Abort(error_line(self.at(f"Error in {verb} device command"), code, device))


def _validate_target(arg: str, line: int) -> None:
    """A device argument with its ``/qualifiers``, checked before anything runs."""
    target, qualifiers = split_qualifiers(arg, line)
    if not target:
        raise ACLSyntaxError(f"Missing device name before ({arg})", line)
    for qualifier in qualifiers:
        if qualifier.name not in _DEVICE_QUALIFIERS:
            raise ACLSyntaxError(f"Invalid device qualifier ({qualifier})", line)
        if qualifier.name == "event" and not qualifier.value:
            raise ACLSyntaxError("Missing event in /event qualifier", line)


class ACLInterpreter:
    """Runs ACL scripts against ``backend``; thread-safe (no state between runs).

    ``timeout`` is passed to every backend call; ``decimals`` sets float display precision;
    ``allow_settings=False`` turns ``set`` and the control verbs into ``DIO_NOPRIV`` errors.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        timeout: float | None = None,
        decimals: int = 3,
        allow_settings: bool = True,
    ) -> None:
        if not isinstance(backend, Backend):
            raise TypeError(f"backend must be a pacsys Backend, got {type(backend).__name__}")
        if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 15:
            raise ValueError(f"decimals must be an integer from 0 to 15, got {decimals!r}")
        self._backend = backend
        self._timeout = None if timeout is None else check_positive(timeout)
        self._decimals = decimals
        self._allow_settings = bool(allow_settings)
        self._handlers: dict[str, Callable[[_Context], list[str]]] = {
            "=": self._assign,
            "read": self._read,
            "set": self._set,
            "show": self._show,
            "print": self._print,
            "exit": self._exit,
            "device_list": self._device_list,
            "read_list": self._read_list,
            **{verb: self._control for verb in _CONTROL_VERBS},
        }

    @property
    def backend(self) -> Backend:
        return self._backend

    def new_scope(self) -> ACLScope:
        """A fresh variable scope, to share between several ``run`` calls (one script file)."""
        return ACLScope()

    # --- entry points ----------------------------------------------------------------

    def execute(self, script: str, *, scope: ACLScope | None = None, strict: bool = False) -> str:
        """Run ``script`` (lines and/or ``;``-separated commands); the printed text."""
        return self.run(script, scope=scope, strict=strict).text

    def run(
        self, script: str, *, scope: ACLScope | None = None, strict: bool = False
    ) -> ACLOutcome:
        """Run ``script``; blocks printed and the error line that stopped it (if any)."""
        if not isinstance(script, str):
            raise TypeError(f"script must be a string, got {type(script).__name__}")
        try:
            commands = parse_script(script)
            for command in commands:
                self._validate(command)
        except ACLSyntaxError as exc:
            if strict:
                raise
            line = error_line(str(exc), SYNTAX)
            return ACLOutcome((line,), line)
        scope = scope if scope is not None else ACLScope()
        outputs: list[str] = []
        for command in commands:
            context = _Context(self, scope, command)
            try:
                lines = self._handlers[command.verb](context)
            except _Abort as abort:
                outputs.append(abort.line)
                return ACLOutcome(tuple(outputs), abort.line)
            except ACLSyntaxError as exc:  # found while running: reported like one found before
                if strict:
                    raise
                line = error_line(str(exc), SYNTAX)
                outputs.append(line)
                return ACLOutcome(tuple(outputs), line)
            except _Exit:
                break
            if lines:
                outputs.append("\n".join(lines))
        return ACLOutcome(tuple(outputs))

    # --- validation (before anything runs) -------------------------------------------

    def _validate(self, command: Command) -> None:
        verb, line = command.verb, command.line
        if verb not in self._handlers:
            raise ACLSyntaxError(f"Unknown command ({verb})", line)
        allowed = _COMMAND_QUALIFIERS[verb]
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
                _validate_target(arg, line)
        elif verb == "set":
            if len(args) < 2:
                raise ACLSyntaxError("set needs a device or variable and a value", line)
            _validate_target(args[0], line)
            tokenize(command.rest[command.rest.index(args[0]) + len(args[0]) :], line)
        elif verb in _CONTROL_VERBS or verb == "show":
            if not args:
                raise ACLSyntaxError(f"Missing device name in {verb} command", line)
        elif verb == "print":
            tokenize(command.rest, line)

    # --- backend access --------------------------------------------------------------

    def _get(self, ctx: _Context, drf: str, verb: str = "read") -> Reading:
        device = parse_request(drf).device
        try:
            reading = self._backend.get(drf, timeout=self._timeout)
        except ReadError as exc:
            first = exc.readings[0] if exc.readings else None
            if first is None:
                raise ctx.device_error(verb, device, 1, -6, exc.message) from None
            raise ctx.device_error(
                verb, device, first.facility_code, first.error_code, first.message
            ) from None
        except DeviceError as exc:
            raise ctx.device_error(
                verb, device, exc.facility_code, exc.error_code, exc.message
            ) from None
        except ValueError:
            raise ctx.syntax(f"Invalid device request ({drf}) in {verb} device command") from None
        except (PacsysError, TimeoutError, OSError) as exc:
            log.debug("read of %s failed: %s", drf, exc)
            raise ctx.device_error(verb, device, 1, -6, None) from None
        if reading.error_code < 0 or reading.value is None:
            raise ctx.device_error(
                verb, device, reading.facility_code, reading.error_code, reading.message
            )
        return reading

    def _write(self, ctx: _Context, drf: str, value: Any, verb: str = "set") -> None:
        device = parse_request(drf).device
        where = f"{verb} device command"
        if not self._allow_settings:
            raise _Abort(
                error_line(ctx.at(f"Settings are disabled in {where}"), "DIO_NOPRIV", device)
            )
        try:
            result = self._backend.write(drf, value, timeout=self._timeout)
        except NotImplementedError:
            raise _Abort(
                error_line(
                    ctx.at(f"Settings are not supported in {where}"), "DIO_NOT_SUPPORTED", device
                )
            ) from None
        except AuthenticationError:
            raise _Abort(
                error_line(ctx.at(f"No setting privilege in {where}"), "DIO_NOPRIV", device)
            ) from None
        except (TypeError, ValueError) as exc:
            log.debug("setting %s rejected: %s", drf, exc)
            raise ctx.syntax(f"Invalid setting value for ({drf}) in {where}") from None
        except (PacsysError, TimeoutError, OSError) as exc:
            log.debug("setting %s failed: %s", drf, exc)
            raise ctx.device_error(verb, device, 1, -6, None) from None
        if not result.ok:
            raise ctx.device_error(
                verb, device, result.facility_code, result.error_code, result.message
            )

    # --- rendering of one device read -----------------------------------------------

    def _device_line(
        self, ctx: _Context, drf: str, *, no_name: bool = False, no_units: bool = False
    ) -> str:
        request = parse_request(drf)
        device, prop, field = request.device, request.property, request.field
        decimals = self._decimals
        if prop is DRF_PROPERTY.STATUS and field in _STATUS_WORDS:
            key, word = _STATUS_WORDS[field]
            event = "" if request.event.mode == "U" else f"@{request.event.raw_string}"
            status = self._get(ctx, f"{device}.STATUS{event}").value
            if not isinstance(status, dict) or key not in status:
                raise _Abort(
                    error_line(
                        ctx.at("Error determining status text in read device command"),
                        NO_ATTRIBUTE,
                        device,
                    )
                )
            return status_line(device, word, bool(status[key]))
        reading = self._get(ctx, drf)
        value = reading.value
        units = reading.meta.units if reading.meta is not None else None
        label = request.name_as(prop) if prop is DRF_PROPERTY.SETTING else device
        if field in _ALARM_FIELDS and prop in _ALARM_PROPERTIES:
            word, key = _ALARM_FIELDS[field]
            if isinstance(value, dict):
                if key not in value:
                    raise _Abort(
                        error_line(
                            ctx.at("Error reading alarm field in read device command"),
                            NO_ATTRIBUTE,
                            device,
                        )
                    )
                value = value[key]
            return alarm_line(device, word, value, units, decimals=decimals)
        return self._value_line(label, reading, units, no_name=no_name, no_units=no_units)

    def _value_line(
        self, label: str, reading: Reading, units: str | None, *, no_name: bool, no_units: bool
    ) -> str:
        value, decimals = reading.value, self._decimals
        if isinstance(value, bytes | bytearray):
            return raw_line(label, bytes(value), no_name=no_name)
        if isinstance(value, str):
            return text_line(label, value, no_name=no_name)
        if isinstance(value, dict):
            if reading.value_type is ValueType.TIMED_SCALAR_ARRAY and "data" in value:
                return array_line(
                    label,
                    value["data"],
                    units,
                    decimals=decimals,
                    no_name=no_name,
                    no_units=no_units,
                )
            if reading.value_type in (ValueType.ANALOG_ALARM, ValueType.DIGITAL_ALARM):
                label = f"{label} alarm"
            return text_line(label, format_value(value, decimals), no_name=no_name)
        if isinstance(value, np.ndarray | list | tuple):
            items = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else value
            if any(isinstance(item, str) for item in items):
                return text_line(label, ", ".join(map(str, items)), no_name=no_name)
            return array_line(
                label, items, units, decimals=decimals, no_name=no_name, no_units=no_units
            )
        return scalar_line(
            label, value, units, decimals=decimals, no_name=no_name, no_units=no_units
        )

    # --- commands ----------------------------------------------------------------------

    @staticmethod
    def _flags(qualifiers: tuple[Qualifier, ...]) -> set[str]:
        return {q.name for q in qualifiers}

    def _read(self, ctx: _Context) -> list[str]:
        flags = self._flags(ctx.command.qualifiers)
        no_name, no_units = "no_name" in flags, "no_units" in flags
        lines = []
        for arg in split_args(ctx.command.rest, ctx.command.line):
            target, qualifiers = split_qualifiers(arg, ctx.command.line)
            if target in ctx.scope.variables and not qualifiers:
                lines.append(self._variable_line(target, ctx.scope.variables[target], no_name))
                continue
            drf = self._target_drf(ctx, target, qualifiers, "read")
            lines.append(self._device_line(ctx, drf, no_name=no_name, no_units=no_units))
        return lines

    def _target_drf(
        self, ctx: _Context, target: str, qualifiers: tuple[Qualifier, ...], verb: str
    ) -> str:
        if not _is_device(target):
            raise ctx.syntax(
                f"Invalid {verb} value variable ({target}) specified in {verb}_device command"
            )
        if not qualifiers:
            return target
        request: DataRequest = parse_request(target)
        prop = None
        field = None
        event = None
        for qualifier in qualifiers:
            if qualifier.name == "setting":
                prop = DRF_PROPERTY.SETTING
            elif qualifier.name == "reading":
                prop = DRF_PROPERTY.READING
            elif qualifier.name == "raw":
                field = DRF_FIELD.RAW
            elif qualifier.name == "event":
                try:
                    event = parse_event(qualifier.value or "")
                except ValueError:
                    raise ctx.syntax(f"Invalid event ({qualifier.value})") from None
        try:
            return request.to_canonical(property=prop, field=field, event=event)
        except ValueError:
            raise ctx.syntax(f"Invalid qualifiers for ({target}) in {verb} command") from None

    def _variable_line(self, name: str, value: Any, no_name: bool = False) -> str:
        if isinstance(value, str):
            return text_line(name, value, no_name=no_name)
        if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool
        ):
            return scalar_line(name, value, None, decimals=self._decimals, no_name=no_name)
        return text_line(name, format_value(value, self._decimals), no_name=no_name)

    def _set(self, ctx: _Context) -> list[str]:
        rest = ctx.command.rest
        target = split_args(rest, ctx.command.line)[0]
        expression = rest[rest.index(target) + len(target) :]
        name, qualifiers = split_qualifiers(target, ctx.command.line)
        value = self._evaluate(ctx, expression)
        if name in ctx.scope.variables or (not _is_device(name) and not qualifiers):
            if not name.isidentifier():
                raise ctx.syntax(f"Invalid set target ({name})")
            ctx.scope.variables[name] = value
            return []
        drf = self._target_drf(ctx, name, qualifiers, "set")
        if isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # ACL numbers are doubles
        self._write(ctx, drf, value)
        return []

    def _assign(self, ctx: _Context) -> list[str]:
        assert ctx.command.assignment is not None
        name, expression = ctx.command.assignment
        ctx.scope.variables[name] = self._evaluate(ctx, expression)
        return []

    def _control(self, ctx: _Context) -> list[str]:
        command = _CONTROL_VERBS[ctx.command.verb]
        for target in split_args(ctx.command.rest, ctx.command.line):
            if not _is_device(target):
                raise ctx.syntax(f"Invalid device name ({target}) in {ctx.command.verb} command")
            self._write(ctx, prepare_for_control(target), command, verb=ctx.command.verb)
        return []

    def _show(self, ctx: _Context) -> list[str]:
        lines: list[str] = []
        for target in split_args(ctx.command.rest, ctx.command.line):
            if target in ctx.scope.variables:
                lines.append(self._variable_line(target, ctx.scope.variables[target]))
                continue
            if not _is_device(target):
                raise ctx.syntax(f"Invalid show value variable ({target}) specified in show")
            device = parse_request(target).device
            shown: list[str] = []
            first_error: _Abort | None = None
            for prop in ("DESCRIPTION", "READING", "SETTING"):
                try:
                    shown.append(self._device_line(ctx, f"{device}.{prop}"))
                except _Abort as abort:
                    first_error = first_error or abort
            if not shown and first_error is not None:
                raise first_error
            lines.extend(shown)
        return lines

    def _print(self, ctx: _Context) -> list[str]:
        tokens = tokenize(ctx.command.rest, ctx.command.line)
        parser = self._parser(ctx, tokens)
        parts = []
        while not parser.done:
            if parser.peek_op(","):
                parser.position += 1
                continue
            parts.append(format_value(parser.expression(), self._decimals))
        return ["".join(parts)]

    def _exit(self, ctx: _Context) -> list[str]:
        raise _Exit

    def _device_list(self, ctx: _Context) -> list[str]:
        flags = self._flags(ctx.command.qualifiers)
        args = split_args(ctx.command.rest, ctx.command.line)
        names = [a for a in args if "=" not in a]
        options = dict(a.split("=", 1) for a in args if "=" in a)
        devices_text = options.get("devices", "").strip("'\"")
        if "create" not in flags or len(names) != 1 or not devices_text:
            raise ctx.syntax(
                "Invalid device_list command (use device_list/create name devices='A,B')"
            )
        devices = [d.strip() for d in devices_text.split(",") if d.strip()]
        for device in devices:
            if not _is_device(device):
                raise ctx.syntax(f"Invalid device name ({device}) in device_list command")
        ctx.scope.device_lists[names[0]] = devices
        return []

    def _read_list(self, ctx: _Context) -> list[str]:
        flags = self._flags(ctx.command.qualifiers)
        args = split_args(ctx.command.rest, ctx.command.line)
        options = dict(a.split("=", 1) for a in args if "=" in a)
        name = options.get("device_list", "").strip("'\"")
        if name not in ctx.scope.device_lists:
            raise ctx.syntax(f"Unknown device list ({name}) in read_list command")
        return [
            self._device_line(ctx, drf, no_name="no_name" in flags, no_units="no_units" in flags)
            for drf in ctx.scope.device_lists[name]
        ]

    # --- expressions -------------------------------------------------------------------

    def _parser(self, ctx: _Context, tokens: list[Token]) -> Expression:
        return Expression(
            tokens,
            resolve=lambda name: self._name_value(ctx, name),
            syntax=ctx.syntax,
            divide_by_zero=lambda: _Abort(error_line(ctx.at("Division by zero"), "CLIB_DIVZERO")),
        )

    def _evaluate(self, ctx: _Context, text: str) -> Any:
        parser = self._parser(ctx, tokenize(text, ctx.command.line))
        value = parser.expression()
        if not parser.done:
            raise ctx.syntax(f"Unexpected text in expression ({text.strip()})")
        return value

    def _name_value(self, ctx: _Context, name: str) -> Any:
        if name in ctx.scope.variables:
            return ctx.scope.variables[name]
        if not _is_device(name):
            raise ctx.syntax(f"Undefined variable ({name})")
        value = self._get(ctx, name).value
        if isinstance(value, np.generic):
            return value.item()
        return value
