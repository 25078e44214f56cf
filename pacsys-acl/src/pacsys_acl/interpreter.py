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

from collections.abc import Callable
from typing import Any

import numpy as np

from pacsys.backends import Backend, check_positive
from pacsys.drf3 import parse_request
from pacsys.drf_utils import prepare_for_control
from pacsys_acl.device_io import DeviceAccess
from pacsys_acl.expression import Expression
from pacsys_acl.outcome import SYNTAX, Abort, ACLOutcome, ACLScope, Context, ExitScript, is_device
from pacsys_acl.render import error_line, format_value
from pacsys_acl.script import (
    ACLSyntaxError,
    Qualifier,
    Token,
    parse_script,
    split_args,
    split_qualifiers,
    tokenize,
)
from pacsys_acl.validate import CONTROL_VERBS, validate_command

__all__ = ["ACLInterpreter", "ACLOutcome", "ACLScope", "ACLSyntaxError"]


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
        self._decimals = decimals
        self._io = DeviceAccess(
            backend,
            None if timeout is None else check_positive(timeout),
            decimals,
            bool(allow_settings),
        )
        self._handlers: dict[str, Callable[[Context], list[str]]] = {
            "=": self._assign,
            "read": self._read,
            "set": self._set,
            "show": self._show,
            "print": self._print,
            "exit": self._exit,
            "device_list": self._device_list,
            "read_list": self._read_list,
            **{verb: self._control for verb in CONTROL_VERBS},
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
                validate_command(command)
        except ACLSyntaxError as exc:
            if strict:
                raise
            line = error_line(str(exc), SYNTAX)
            return ACLOutcome((line,), line)
        scope = scope if scope is not None else ACLScope()
        outputs: list[str] = []
        for command in commands:
            context = Context(scope, command)
            try:
                lines = self._handlers[command.verb](context)
            except Abort as abort:
                outputs.append(abort.line)
                return ACLOutcome(tuple(outputs), abort.line)
            except ACLSyntaxError as exc:  # found while running: reported like one found before
                if strict:
                    raise
                line = error_line(str(exc), SYNTAX)
                outputs.append(line)
                return ACLOutcome(tuple(outputs), line)
            except ExitScript:
                break
            if lines:
                outputs.append("\n".join(lines))
        return ACLOutcome(tuple(outputs))

    # --- commands ----------------------------------------------------------------------

    @staticmethod
    def _flags(qualifiers: tuple[Qualifier, ...]) -> set[str]:
        return {q.name for q in qualifiers}

    def _read(self, ctx: Context) -> list[str]:
        flags = self._flags(ctx.command.qualifiers)
        no_name, no_units = "no_name" in flags, "no_units" in flags
        lines = []
        for arg in split_args(ctx.command.rest, ctx.command.line):
            target, qualifiers = split_qualifiers(arg, ctx.command.line)
            if target in ctx.scope.variables and not qualifiers:
                lines.append(self._io.variable_line(target, ctx.scope.variables[target], no_name))
                continue
            drf = self._io.target_drf(ctx, target, qualifiers, "read")
            lines.append(self._io.device_line(ctx, drf, no_name=no_name, no_units=no_units))
        return lines

    def _set(self, ctx: Context) -> list[str]:
        rest = ctx.command.rest
        target = split_args(rest, ctx.command.line)[0]
        expression = rest[rest.index(target) + len(target) :]
        name, qualifiers = split_qualifiers(target, ctx.command.line)
        value = self._evaluate(ctx, expression)
        if name in ctx.scope.variables or (not is_device(name) and not qualifiers):
            if not name.isidentifier():
                raise ctx.syntax(f"Invalid set target ({name})")
            ctx.scope.variables[name] = value
            return []
        drf = self._io.target_drf(ctx, name, qualifiers, "set")
        if isinstance(value, int) and not isinstance(value, bool):
            value = float(value)  # ACL numbers are doubles
        self._io.write(ctx, drf, value)
        return []

    def _assign(self, ctx: Context) -> list[str]:
        assert ctx.command.assignment is not None
        name, expression = ctx.command.assignment
        ctx.scope.variables[name] = self._evaluate(ctx, expression)
        return []

    def _control(self, ctx: Context) -> list[str]:
        command = CONTROL_VERBS[ctx.command.verb]
        for target in split_args(ctx.command.rest, ctx.command.line):
            if not is_device(target):
                raise ctx.syntax(f"Invalid device name ({target}) in {ctx.command.verb} command")
            self._io.write(ctx, prepare_for_control(target), command, verb=ctx.command.verb)
        return []

    def _show(self, ctx: Context) -> list[str]:
        lines: list[str] = []
        for target in split_args(ctx.command.rest, ctx.command.line):
            if target in ctx.scope.variables:
                lines.append(self._io.variable_line(target, ctx.scope.variables[target]))
                continue
            if not is_device(target):
                raise ctx.syntax(f"Invalid show value variable ({target}) specified in show")
            device = parse_request(target).device
            shown: list[str] = []
            first_error: Abort | None = None
            for prop in ("DESCRIPTION", "READING", "SETTING"):
                try:
                    shown.append(self._io.device_line(ctx, f"{device}.{prop}"))
                except Abort as abort:
                    first_error = first_error or abort
            if not shown and first_error is not None:
                raise first_error
            lines.extend(shown)
        return lines

    def _print(self, ctx: Context) -> list[str]:
        tokens = tokenize(ctx.command.rest, ctx.command.line)
        parser = self._parser(ctx, tokens)
        parts = []
        while not parser.done:
            if parser.peek_op(","):
                parser.position += 1
                continue
            parts.append(format_value(parser.expression(), self._decimals))
        return ["".join(parts)]

    def _exit(self, ctx: Context) -> list[str]:
        raise ExitScript

    def _device_list(self, ctx: Context) -> list[str]:
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
            if not is_device(device):
                raise ctx.syntax(f"Invalid device name ({device}) in device_list command")
        ctx.scope.device_lists[names[0]] = devices
        return []

    def _read_list(self, ctx: Context) -> list[str]:
        flags = self._flags(ctx.command.qualifiers)
        args = split_args(ctx.command.rest, ctx.command.line)
        options = dict(a.split("=", 1) for a in args if "=" in a)
        name = options.get("device_list", "").strip("'\"")
        if name not in ctx.scope.device_lists:
            raise ctx.syntax(f"Unknown device list ({name}) in read_list command")
        return [
            self._io.device_line(ctx, drf, no_name="no_name" in flags, no_units="no_units" in flags)
            for drf in ctx.scope.device_lists[name]
        ]

    # --- expressions -------------------------------------------------------------------

    def _parser(self, ctx: Context, tokens: list[Token]) -> Expression:
        return Expression(
            tokens,
            resolve=lambda name: self._name_value(ctx, name),
            syntax=ctx.syntax,
            divide_by_zero=lambda: Abort(error_line(ctx.at("Division by zero"), "CLIB_DIVZERO")),
        )

    def _evaluate(self, ctx: Context, text: str) -> Any:
        parser = self._parser(ctx, tokenize(text, ctx.command.line))
        value = parser.expression()
        if not parser.done:
            raise ctx.syntax(f"Unexpected text in expression ({text.strip()})")
        return value

    def _name_value(self, ctx: Context, name: str) -> Any:
        if name in ctx.scope.variables:
            return ctx.scope.variables[name]
        if not is_device(name):
            raise ctx.syntax(f"Undefined variable ({name})")
        value = self._io.get(ctx, name).value
        if isinstance(value, np.generic):
            return value.item()
        return value
