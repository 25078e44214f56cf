"""``@hookspec``/``@hookimpl`` markers that pluggy reads, without importing pluggy.

Every plugin module imports ``hookimpl`` at import time, and the command-line tools load
plugins on every start; pluggy itself is imported only when a plugin manager is built
(docs/plugins.md). A marker stores the same option dict under the same attribute
(``pacsys_impl``/``pacsys_spec``) as pluggy's own markers, so pluggy accepts it unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_IMPL_DEFAULTS: dict[str, Any] = {
    "wrapper": False,
    "hookwrapper": False,
    "optionalhook": False,
    "tryfirst": False,
    "trylast": False,
    "specname": None,
}
_SPEC_DEFAULTS: dict[str, Any] = {
    "firstresult": False,
    "historic": False,
    "warn_on_impl": None,
    "warn_on_impl_args": None,
}


class _Marker:
    """Decorator factory: ``@marker`` or ``@marker(option=value, ...)``."""

    def __init__(self, attribute: str, defaults: dict[str, Any]) -> None:
        self.attribute = attribute
        self._defaults = defaults

    def __call__(self, function: F | None = None, **options: Any) -> Any:
        unknown = set(options) - set(self._defaults)
        if unknown:
            raise TypeError(f"unknown {self.attribute} option(s): {', '.join(sorted(unknown))}")
        opts = {**self._defaults, **options}
        if opts.get("historic") and opts.get("firstresult"):
            raise ValueError("cannot have a historic firstresult hook")

        def mark(target: F) -> F:
            setattr(target, self.attribute, dict(opts))
            return target

        return mark if function is None else mark(function)


def impl_options(function: object, attribute: str) -> dict[str, Any] | None:
    """The options a ``hookimpl`` marker left on ``function``, or None when unmarked."""
    opts = getattr(function, attribute, None)
    return opts if isinstance(opts, dict) else None


def hookspec_marker(project: str) -> _Marker:
    return _Marker(f"{project}_spec", _SPEC_DEFAULTS)


def hookimpl_marker(project: str) -> _Marker:
    return _Marker(f"{project}_impl", _IMPL_DEFAULTS)


IMPL_DEFAULTS = _IMPL_DEFAULTS
