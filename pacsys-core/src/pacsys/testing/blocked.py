"""Run Python as if some packages were not installed: what a slim install looks like.

A ``sitecustomize`` that maps each blocked module to ``None`` makes ``import`` raise
``ModuleNotFoundError``, so tests can check the message a missing optional extra gives.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path


def blocked_imports(
    directory: Path, modules: Iterable[str], drop: Iterable[str] = ()
) -> dict[str, str]:
    """An environment (copy of ``os.environ``) in which importing ``modules`` fails.

    ``directory`` receives the ``sitecustomize.py``; ``drop`` names variables to unset
    (e.g. ``KRB5CCNAME``, so no ticket cache is found).
    """
    names = list(modules)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"modules must be non-empty module names, got {names!r}")
    site = Path(directory) / "site"
    site.mkdir(parents=True, exist_ok=True)
    lines = ["import sys", *(f"sys.modules[{name!r}] = None" for name in names)]
    (site / "sitecustomize.py").write_text("\n".join(lines) + "\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    for name in drop:
        env.pop(name, None)
    return env


def run_python(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a fresh interpreter with ``args`` (``"-c", code`` or ``"-m", ...``) in ``env``."""
    return subprocess.run(
        [sys.executable, *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
