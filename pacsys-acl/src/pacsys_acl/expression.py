"""Pure evaluation of ACL expressions: numbers, strings, names, ``+ - * /`` and parentheses.

Names are resolved by the caller (variables, or device reads); failures are built by the
caller too, so this module knows nothing about backends or error-line formats.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pacsys_acl.render import format_value
from pacsys_acl.script import Token

__all__ = ["MAX_NESTING", "Expression"]

#: Deepest parenthesis nesting accepted; deeper input is a syntax error, not a RecursionError.
MAX_NESTING = 100


class Expression:
    """Recursive-descent evaluator over a token list; ``position`` advances as it parses.

    ``resolve(name)`` gives a name's value; ``syntax(text)`` and ``divide_by_zero()`` build
    the exceptions raised for malformed expressions and division by zero.  ``+`` with a
    string operand concatenates.
    """

    def __init__(
        self,
        tokens: list[Token],
        *,
        resolve: Callable[[str], Any],
        syntax: Callable[[str], Exception],
        divide_by_zero: Callable[[], Exception],
    ) -> None:
        self.tokens = tokens
        self.position = 0
        self._depth = 0
        self._resolve = resolve
        self._syntax = syntax
        self._divide_by_zero = divide_by_zero

    @property
    def done(self) -> bool:
        return self.position >= len(self.tokens)

    def peek_op(self, *ops: str) -> bool:
        """True when the next token is one of the operators ``ops``."""
        if self.done:
            return False
        token = self.tokens[self.position]
        return token.kind == "op" and token.text in ops

    def expression(self) -> Any:
        """Parse and evaluate one expression starting at ``position``."""
        value = self._term()
        while self.peek_op("+", "-"):
            op = self.tokens[self.position].text
            self.position += 1
            right = self._term()
            if op == "+" and (isinstance(value, str) or isinstance(right, str)):
                value = format_value(value) + format_value(right)
            else:
                value = self._arith(op, value, right)
        return value

    def _term(self) -> Any:
        value = self._unary()
        while self.peek_op("*", "/"):
            op = self.tokens[self.position].text
            self.position += 1
            value = self._arith(op, value, self._unary())
        return value

    def _unary(self) -> Any:
        negate = False
        while self.peek_op("-", "+"):
            negate ^= self.tokens[self.position].text == "-"
            self.position += 1
        value = self._primary()
        return self._arith("*", -1, value) if negate else value

    def _primary(self) -> Any:
        if self.done:
            raise self._syntax("Missing value in expression")
        token = self.tokens[self.position]
        self.position += 1
        if token.kind == "num":
            number = float(token.text)
            return int(number) if token.text.isdigit() else number
        if token.kind == "str":
            return token.text
        if token.kind == "name":
            return self._resolve(token.text)
        if token.text == "(":
            if self._depth >= MAX_NESTING:
                raise self._syntax(f"Expression nested more than {MAX_NESTING} levels deep")
            self._depth += 1
            value = self.expression()
            self._depth -= 1
            if not self.peek_op(")"):
                raise self._syntax("Missing ) in expression")
            self.position += 1
            return value
        raise self._syntax(f"Unexpected ({token.text}) in expression")

    def _arith(self, op: str, left: Any, right: Any) -> Any:
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right))
        if not numeric:
            raise self._syntax(f"Invalid operands for ({op})")
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        if right == 0:
            raise self._divide_by_zero()
        return left / right
