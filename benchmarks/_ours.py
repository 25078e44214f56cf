"""This workspace installed as a user installs it, in its own venv, for start-up comparisons.

The workspace venv is a development environment: editable installs (a ``.pth`` file and a
``sys.path`` entry per distribution), setuptools' distutils hook, test and notebook
packages. Each of those costs every process a few milliseconds that no user pays, so
comparing start-up against the reference in its lean venv would be unfair to us. This
module builds ``.bench-venv-ours`` (git-ignored) with regular (wheel) installs of every
distribution of the workspace and the Kerberos extra, rebuilt from the current sources on
each call so that the numbers always measure the code in the tree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS_VENV = ROOT / ".bench-venv-ours"
OURS_PYTHON = OURS_VENV / "bin" / "python"
DISTRIBUTIONS = (
    "pacsys-core",
    "pacsys-dpm",
    "pacsys-grpc",
    "pacsys-dmq",
    "pacsys-acl",
    "pacsys-ssh",
    "pacsys-acnet",
)


def install_ours() -> Path | None:
    """(Re)install every distribution of the tree into the venv; its python, or None (and
    why) when that fails."""
    uv = [sys.executable, "-m", "uv"]
    sources = [str(ROOT / name) for name in DISTRIBUTIONS]
    sources[0] += "[kerberos]"
    reinstall = [arg for name in DISTRIBUTIONS for arg in ("--reinstall-package", name)]
    install = [*uv, "pip", "install", "--quiet", "--no-sources", "--python", str(OURS_PYTHON)]
    steps = [
        [*uv, "venv", "--quiet", "--allow-existing", str(OURS_VENV)],
        [*install, *reinstall, *sources],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            print(f"installed copy unavailable: {' '.join(step)} failed:\n{result.stderr.strip()}")
            return None
    return OURS_PYTHON
