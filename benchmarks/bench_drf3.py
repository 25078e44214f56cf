"""DRF3 parse-rate benchmark: pacsys (this tree) against the reference pacsys 0.3.0.

Run: ``.venv/bin/python benchmarks/bench_drf3.py [--rounds 20] [--repeat 5] [--no-reference]``.

Parses every valid input of ``tests/vectors/drf3_vectors.json`` ``rounds`` times and keeps the
best of ``repeat`` runs. Ours is timed without its parse cache (the fair number) and with a warm
cache. The reference runs in its own virtual environment, ``.bench-venv-ref`` next to the
workspace root (created once with uv, gitignored), so it never touches the workspace venv.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time
import types
from collections.abc import Callable, Sequence
from pathlib import Path

from _reference import REF_PYTHON, REF_REQUIREMENT, ensure_reference_venv

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "tests" / "vectors" / "drf3_vectors.json"

# Timing loop shared by both sides; the reference runs it in a subprocess (inputs on stdin).
TIMING_SNIPPET = """
import json, sys, time
from pacsys.drf3 import parse_request
inputs, rounds, repeat = json.load(sys.stdin)
best = float("inf")
for _ in range(repeat):
    start = time.perf_counter()
    for _ in range(rounds):
        for text in inputs:
            parse_request(text)
    best = min(best, time.perf_counter() - start)
print(json.dumps(len(inputs) * rounds / best))
"""


def valid_inputs() -> list[str]:
    cases = json.loads(VECTORS.read_text("utf-8"))["cases"]
    return [case["input"] for case in cases if case["valid"]]


def time_parser(
    parse: Callable[[str], object], inputs: Sequence[str], rounds: int, repeat: int
) -> float:
    """Best-of-``repeat`` parses per second over ``rounds`` passes through ``inputs``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(rounds):
            for text in inputs:
                parse(text)
        best = min(best, time.perf_counter() - start)
    return len(inputs) * rounds / best


def import_parser() -> types.ModuleType:
    """``pacsys.drf3.parser``; if the package root cannot be imported yet (other modules still
    missing during development), load the drf3 subpackage on its own."""
    try:
        return importlib.import_module("pacsys.drf3.parser")
    except ImportError as exc:
        print(f"note: 'import pacsys' failed ({exc}); loading pacsys.drf3 on its own")
        for name in [n for n in sys.modules if n == "pacsys" or n.startswith("pacsys.")]:
            del sys.modules[name]
        package = types.ModuleType("pacsys")
        package.__path__ = [str(ROOT / "pacsys-core" / "src" / "pacsys")]
        sys.modules["pacsys"] = package
        return importlib.import_module("pacsys.drf3.parser")


def time_reference(inputs: Sequence[str], rounds: int, repeat: int) -> float | None:
    """Parses per second of the reference, measured inside its own venv."""
    result = subprocess.run(
        [str(REF_PYTHON), "-c", TIMING_SNIPPET],
        input=json.dumps([list(inputs), rounds, repeat]),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(f"reference run failed:\n{result.stderr.strip()}")
        return None
    return float(result.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rounds", type=int, default=20)
    options.add_argument("--repeat", type=int, default=5)
    options.add_argument(
        "--trials", type=int, default=3, help="alternate ours/reference this often, keep the best"
    )
    options.add_argument("--no-reference", action="store_true")
    args = options.parse_args(argv)

    inputs = valid_inputs()
    parser = import_parser()
    use_reference = not args.no_reference and ensure_reference_venv("pacsys.drf3")
    best: dict[str, float | None] = {"uncached": 0.0, "cached": 0.0, "reference": None}
    # The machine may be shared: alternate the measurements so load bursts hit both sides alike.
    for _ in range(args.trials):
        rate = time_parser(parser.parse_request_uncached, inputs, args.rounds, args.repeat)
        best["uncached"] = max(best["uncached"] or 0.0, rate)
        parser.clear_parse_cache()
        rate = time_parser(parser.parse_request, inputs, args.rounds, args.repeat)
        best["cached"] = max(best["cached"] or 0.0, rate)
        if use_reference:
            ref = time_reference(inputs, args.rounds, args.repeat)
            if ref is not None:
                best["reference"] = max(best["reference"] or 0.0, ref)
    reference = best["reference"]
    rows = [
        ("pacsys (ours, uncached)", best["uncached"]),
        ("pacsys (ours, cached)", best["cached"]),
        (f"reference {REF_REQUIREMENT}", reference),
    ]

    print(
        f"{len(inputs)} valid DRF inputs x {args.rounds} rounds, best of {args.repeat}, "
        f"{args.trials} alternating trials"
    )
    print(f"{'implementation':<28}{'parses/s':>14}{'us/parse':>11}{'vs reference':>15}")
    for name, rate in rows:
        if rate is None:
            print(f"{name:<28}{'n/a':>14}")
            continue
        ratio = f"{rate / reference:.2f}x" if reference else "-"
        print(f"{name:<28}{rate:>14,.0f}{1e6 / rate:>11.2f}{ratio:>15}")


if __name__ == "__main__":
    main()
