"""The reference pacsys 0.3.0 (PyPI) in its own venv, for the benchmarks' comparisons.

Benchmarks run as scripts (``python benchmarks/bench_x.py``), so they import this module by
its bare name. The venv lives in ``.bench-venv-ref`` (git-ignored) and is made on first use.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REF_VENV = ROOT / ".bench-venv-ref"
REF_PYTHON = REF_VENV / "bin" / "python"
REF_REQUIREMENT = "pacsys==0.3.0"


def ensure_reference_venv(probe_module: str) -> bool:
    """Create the venv with the reference installed, once; False (and why) when impossible.

    ``probe_module`` is imported in the venv to tell a usable install from a broken one.
    """
    if REF_PYTHON.exists():
        probe = subprocess.run(
            [str(REF_PYTHON), "-c", f"import {probe_module}"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return True
    uv = [sys.executable, "-m", "uv"]
    steps = [
        [*uv, "venv", "--quiet", "--allow-existing", str(REF_VENV)],
        [*uv, "pip", "install", "--quiet", "--python", str(REF_PYTHON), REF_REQUIREMENT],
    ]
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            print(f"reference unavailable: {' '.join(step)} failed:\n{result.stderr.strip()}")
            return False
    return True
