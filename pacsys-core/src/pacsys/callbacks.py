"""Up-front validation of subscription callbacks.

A bad callback would otherwise only fail later, on the dispatch thread, where the error
is logged and swallowed; checking at ``subscribe()`` time reports it to the caller.
"""

from __future__ import annotations

import inspect

__all__ = ["validate_callbacks"]


def validate_callbacks(callback: object, on_error: object, *, suggest_event: bool = False) -> None:
    """Raise TypeError unless each given callback can be called as ``fn(x, handle)``.

    ``suggest_event`` adds a hint for the common slip of passing an event string as the
    first positional argument of ``Device.subscribe``.
    """
    if callback is not None:
        if not callable(callback):
            message = f"callback must be callable, got {type(callback).__name__}"
            if suggest_event:
                message += f" — did you mean subscribe(event={callback!r})?"
            raise TypeError(message)
        _check_two_positional(callback, "callback", "(reading, handle)")
    if on_error is not None:
        if not callable(on_error):
            raise TypeError(f"on_error must be callable, got {type(on_error).__name__}")
        _check_two_positional(on_error, "on_error", "(exception, handle)")


def _check_two_positional(fn: object, role: str, arguments: str) -> None:
    """Bind two dummy positional arguments to ``fn``'s signature; explain a failure."""
    try:
        signature = inspect.signature(fn)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return  # builtins without a signature: nothing we can check
    try:
        signature.bind(None, None)
    except TypeError as exc:
        raise TypeError(
            f"{role} must accept 2 arguments {arguments}, but {fn!r} cannot: {exc}"
        ) from None
