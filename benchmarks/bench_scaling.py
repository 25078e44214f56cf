"""Scaling benchmark: raw -> engineering (and back) for 10^6 values, ours against the reference.

Run: ``.venv/bin/python benchmarks/bench_scaling.py [--n 1000000] [--repeat 3] [--no-reference]``.

Each row scales the same int16 raw values (a fixed-seed random draw) with one Scaler and
keeps the best of ``repeat`` runs. Ours runs the arithmetic transforms vectorised; the
exp/log ones go element by element, as the reference does for every transform. The
reference (pacsys 0.3.0) runs in its own venv, ``.bench-venv-ref`` (see ``_reference.py``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from collections.abc import Callable

import numpy as np
from _reference import REF_PYTHON, REF_REQUIREMENT, ensure_reference_venv

from pacsys.scaling import Scaler

# (label, p_index, c_index, constants, direction)
ROWS: list[tuple[str, int, int, tuple[float, ...], str]] = [
    ("M:OUTTMP  p2/c2 (20, 1, 0)", 2, 2, (20.0, 1.0, 0.0), "scale"),
    ("ramp      p2/c6 (4, 1)", 2, 6, (4.0, 1.0), "scale"),
    ("ramp      p2/c6 (4, 1)", 2, 6, (4.0, 1.0), "unscale"),
    ("exp       p2/c22 (4, 1)", 2, 22, (4.0, 1.0), "scale"),
]

TIMING_SNIPPET = """
import json, sys, time
import numpy as np
from pacsys.scaling import Scaler
rows, n, repeat = json.load(sys.stdin)
raw = np.random.default_rng(20).integers(-32768, 32768, n, dtype=np.int64)
out = []
for p, c, constants, direction in rows:
    scaler = Scaler(p, c, tuple(constants), 2)
    data = raw if direction == "scale" else scaler.scale(raw)
    call = scaler.scale if direction == "scale" else scaler.unscale
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call(data)
        best = min(best, time.perf_counter() - start)
    out.append(best)
print(json.dumps(out))
"""


def best_of(call: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def ours(n: int, repeat: int) -> list[float]:
    raw = np.random.default_rng(20).integers(-32768, 32768, n, dtype=np.int64)
    times = []
    for _, p, c, constants, direction in ROWS:
        scaler = Scaler(p, c, constants, 2)
        if direction == "scale":
            times.append(best_of(lambda s=scaler: s.scale(raw), repeat))
        else:
            values = scaler.scale(raw)
            times.append(best_of(lambda s=scaler, v=values: s.unscale(v), repeat))
    return times


def reference(n: int, repeat: int) -> list[float] | None:
    if not ensure_reference_venv("pacsys.scaling"):
        return None
    rows = [[p, c, list(constants), direction] for _, p, c, constants, direction in ROWS]
    done = subprocess.run(
        [str(REF_PYTHON), "-c", TIMING_SNIPPET],
        input=json.dumps([rows, n, repeat]),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"reference run failed:\n{done.stderr.strip()}")
        return None
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args()
    mine = ours(args.n, args.repeat)
    theirs = None if args.no_reference else reference(args.n, max(1, args.repeat // 3))
    print(f"{args.n:,} int16 raw values per call, best of {args.repeat}")
    header = f"{'scaler':<28} {'direction':<9} {'ours':>10} {'M values/s':>11}"
    if theirs is not None:
        header += f" {REF_REQUIREMENT:>15} {'speed-up':>9}"
    print(header)
    for i, (label, _, _, _, direction) in enumerate(ROWS):
        line = f"{label:<28} {direction:<9} {mine[i] * 1e3:>8.1f}ms {args.n / mine[i] / 1e6:>11.1f}"
        if theirs is not None:
            line += f" {theirs[i] * 1e3:>13.0f}ms {theirs[i] / mine[i]:>8.1f}x"
        print(line)


if __name__ == "__main__":
    main()
