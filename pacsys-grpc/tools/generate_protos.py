"""Regenerate the committed protobuf/gRPC modules under ``src/pacsys_grpc/_proto``.

Run ``python tools/generate_protos.py`` (with grpcio-tools installed) after editing a
``.proto`` file under ``protos/``.  The output is deterministic for a given grpcio-tools
version, so ``tests/grpc/test_protos_generated.py`` can check that the committed files are
exactly what this script produces.

The ``.proto`` files live under ``protos/pacsys_grpc/_proto/`` so that protoc's include
path matches the Python package path: generated modules then import each other as
``pacsys_grpc._proto....`` and the descriptor file names cannot collide with other
projects' copies of the same services in the default descriptor pool.  Any import of a
sibling module that does not come out package-qualified is rewritten, and the result is
checked.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = PACKAGE_ROOT / "protos"
PROTO_PACKAGE = "pacsys_grpc._proto"
PROTO_PACKAGE_DIR = Path(*PROTO_PACKAGE.split("."))
DEFAULT_OUTPUT = PACKAGE_ROOT / "src" / PROTO_PACKAGE_DIR

GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")
INIT_TEXT = '"""Generated protobuf and gRPC modules; regenerate with tools/generate_protos.py."""\n'

# Imports that protoc emits for sibling modules: "from a.b import c_pb2" / "import a.b_pb2".
_IMPORT_RE = re.compile(
    r"^(?P<head>from |import )(?P<module>[A-Za-z_][\w.]*)(?P<tail> import \w+_pb2\b| as )",
    re.MULTILINE,
)


def proto_files(proto_root: Path = PROTO_ROOT) -> list[Path]:
    """Every ``.proto`` file of the project, relative to the include root, sorted."""
    return sorted(p.relative_to(proto_root) for p in proto_root.rglob("*.proto"))


def _has_service(path: Path) -> bool:
    return re.search(r"^\s*service\s+\w+", path.read_text(encoding="utf-8"), re.M) is not None


def _run_protoc(args: list[str]) -> None:
    well_known = resources.files("grpc_tools") / "_proto"
    command = [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{well_known}"]
    result = subprocess.run([*command, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"protoc failed ({result.returncode}): {result.stderr.strip()}")


def _qualify_imports(text: str, local_modules: set[str]) -> str:
    """Rewrite imports of generated siblings so they start with ``pacsys_grpc._proto``."""

    def fix(match: re.Match[str]) -> str:
        module = match["module"]
        top = module.split(".")[0]
        if module.startswith(PROTO_PACKAGE) or top not in local_modules:
            return match[0]
        return f"{match['head']}{PROTO_PACKAGE}.{module}{match['tail']}"

    return _IMPORT_RE.sub(fix, text)


def _check_imports(path: Path, text: str) -> None:
    for match in _IMPORT_RE.finditer(text):
        module = match["module"]
        is_proto = module.endswith("_pb2") or match["tail"].startswith(" import")
        if is_proto and not module.startswith(("google.", PROTO_PACKAGE)):
            raise RuntimeError(f"{path.name}: unqualified generated import {module!r}")


def generate(output_dir: Path) -> list[Path]:
    """Generate every module into ``output_dir`` (the ``_proto`` package directory).

    Existing generated files in ``output_dir`` are replaced; returns the written paths
    relative to ``output_dir``, sorted.
    """
    protos = proto_files()
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp)
        names = [p.as_posix() for p in protos]
        _run_protoc([f"--python_out={staging}", f"--pyi_out={staging}", *names])
        with_services = [p.as_posix() for p in protos if _has_service(PROTO_ROOT / p)]
        if with_services:
            _run_protoc([f"--grpc_python_out={staging}", *with_services])

        generated_root = staging / PROTO_PACKAGE_DIR
        local_modules = {p.name for p in staging.iterdir()}
        outputs: dict[Path, str] = {}
        for file in sorted(generated_root.rglob("*")):
            if file.is_file():
                text = _qualify_imports(file.read_text(encoding="utf-8"), local_modules)
                _check_imports(file, text)
                outputs[file.relative_to(generated_root)] = text
        packages = {Path()} | {rel.parent for rel in outputs}
        for package in packages:
            for parent in [package, *package.parents]:
                outputs.setdefault(parent / "__init__.py", INIT_TEXT)

    _clear_generated(output_dir)
    for rel, text in outputs.items():
        target = output_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
    return sorted(outputs)


def _clear_generated(output_dir: Path) -> None:
    if not output_dir.exists():
        return
    for file in output_dir.rglob("*"):
        if not file.is_file():
            continue
        ours = file.name == "__init__.py" and file.read_text(encoding="utf-8") == INIT_TEXT
        if ours or file.name.endswith(GENERATED_SUFFIXES):
            file.unlink()
    for cache in output_dir.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="target directory")
    args = parser.parse_args(argv)
    for rel in generate(args.output):
        print(args.output / rel)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
