"""Regular expressions compiled on first use.

Compiling the DRF grammar's patterns costs more at import than the rest of the package's
set-up, and a command-line read needs two of them at most. A :class:`LazyPattern` compiles
on its first ``match``/``fullmatch``/``search`` and then puts the compiled pattern's bound
methods on itself, so later calls cost what a compiled pattern's calls cost.
"""

from __future__ import annotations

import re


class LazyPattern:
    """``re.compile(pattern, flags)``, done when first used."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags

    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern; from now on the methods are the compiled pattern's own."""
        compiled = re.compile(self.pattern, self.flags)
        self.match = compiled.match  # type: ignore[method-assign]
        self.fullmatch = compiled.fullmatch  # type: ignore[method-assign]
        self.search = compiled.search  # type: ignore[method-assign]
        return compiled

    def match(self, string: str) -> re.Match[str] | None:
        """``Pattern.match``."""
        return self.compiled().match(string)

    def fullmatch(self, string: str) -> re.Match[str] | None:
        """``Pattern.fullmatch``."""
        return self.compiled().fullmatch(string)

    def search(self, string: str) -> re.Match[str] | None:
        """``Pattern.search``."""
        return self.compiled().search(string)
