"""validate_callbacks: the TypeError messages subscribe() raises for unusable callbacks."""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest

from pacsys.callbacks import validate_callbacks


def two(reading: Any, handle: Any) -> None: ...


def one(reading: Any) -> None: ...


def three(reading: Any, handle: Any, extra: Any) -> None: ...


class Receiver:
    def method(self, reading: Any, handle: Any) -> None: ...

    def __call__(self, reading: Any, handle: Any) -> None: ...


def needs_keyword(reading: Any, handle: Any, *, key: Any) -> None: ...


@pytest.mark.parametrize(
    "fn",
    [
        two,
        lambda r, h: None,
        lambda *args: None,
        lambda r, *rest: None,
        lambda r, h, extra=1, **kw: None,
        Receiver().method,
        Receiver(),
        functools.partial(three, 1),
        print,
    ],
    ids=[
        "function",
        "lambda",
        "varargs",
        "one-plus-varargs",
        "defaulted-extra",
        "bound-method",
        "callable-object",
        "partial",
        "builtin",
    ],
)
def test_accepts_callables_taking_two_positional_arguments(fn: Any) -> None:
    validate_callbacks(fn, fn)
    validate_callbacks(fn, None, suggest_event=True)


def test_none_is_fine() -> None:
    validate_callbacks(None, None)


def test_non_callable_callback() -> None:
    with pytest.raises(TypeError) as info:
        validate_callbacks("p,1000", None)
    assert str(info.value) == "callback must be callable, got str"


def test_non_callable_callback_with_event_hint() -> None:
    with pytest.raises(TypeError) as info:
        validate_callbacks("p,1000", None, suggest_event=True)
    assert str(info.value) == (
        "callback must be callable, got str — did you mean subscribe(event='p,1000')?"
    )


def test_non_callable_on_error_gets_no_hint() -> None:
    with pytest.raises(TypeError) as info:
        validate_callbacks(None, 5, suggest_event=True)
    assert str(info.value) == "on_error must be callable, got int"


def test_callback_checked_before_on_error() -> None:
    with pytest.raises(TypeError, match=r"^callback must be callable, got list$"):
        validate_callbacks([], 5)


@pytest.mark.parametrize(
    ("fn", "reason"),
    [
        (one, "too many positional arguments"),
        (three, "missing a required argument: 'extra'"),
        (needs_keyword, "missing a required argument: 'key'"),
        (lambda: None, "too many positional arguments"),
    ],
)
def test_wrong_arity_callback(fn: Any, reason: str) -> None:
    with pytest.raises(TypeError) as info:
        validate_callbacks(fn, None)
    assert str(info.value) == (
        f"callback must accept 2 arguments (reading, handle), but {fn!r} cannot: {reason}"
    )


def test_wrong_arity_on_error() -> None:
    with pytest.raises(TypeError) as info:
        validate_callbacks(two, one)
    expected = (
        f"on_error must accept 2 arguments (exception, handle), but {one!r} cannot: "
        "too many positional arguments"
    )
    assert str(info.value) == expected


def test_message_names_the_offending_callable() -> None:
    with pytest.raises(TypeError, match=re.escape(repr(three))):
        validate_callbacks(three, two)
