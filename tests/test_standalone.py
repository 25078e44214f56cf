"""The repository stands alone: no reference to documents outside it, and every citation resolves.

Scans every file of the repository (``git ls-files``, tracked and untracked-but-not-ignored;
a directory walk honouring ``.gitignore`` when git is unavailable), skipping ``uv.lock`` and
binary files, and fails with ``file:line`` for:

* a reference to the project's outside reference documents (the sibling ``shared`` checkout,
  its specs and vectors, the seed API reference, the design note) or a bare "spec" section;
* a section sign that is not part of a citation of the protocol notes, written as the notes'
  path (``docs/protocols/`` + file name) followed by section numbers; inside a protocol note a
  bare section sign cites that same note;
* a citation of a protocol note that does not exist, or of a section number it has no heading
  for (headings are numbered ``## 4. Title``, ``### 4.7 Title`` ...);
* a conformance vector file in ``tests/vectors`` that its README does not list.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROTOCOLS = "docs/protocols"
VECTORS = ROOT / "tests" / "vectors"
SKIPPED_FILES = frozenset({"uv.lock"})

SECTION_SIGN = "\u00a7"
_SHARED = "shared"
# Assembled at run time so that this file does not match its own patterns.
FORBIDDEN: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(re.escape("../" + _SHARED)), "the sibling reference checkout"),
    (re.compile(re.escape(_SHARED + "/specs")), "an outside spec"),
    (re.compile(re.escape(_SHARED + "/vectors")), "outside vectors (use tests/vectors)"),
    (re.compile(re.escape("seed-api-" + "reference")), "the outside API reference"),
    (re.compile(re.escape("DESIGN" + ".md")), "the outside design note"),
    (re.compile(r"\bspecs?\s*" + SECTION_SIGN, re.IGNORECASE), "a section of an outside spec"),
)
_NUMBER = r"\d+(?:\.\d+)*"
CITATION = re.compile(
    re.escape(PROTOCOLS + "/")
    + r"([A-Za-z0-9_-]+)\.md`*"
    + r"((?:[\s,;\u2013-]*(?:and\s+|or\s+|to\s+)?"
    + SECTION_SIGN
    + _NUMBER
    + ")*)"
)
SECTION = re.compile(SECTION_SIGN + "(" + _NUMBER + ")")
HEADING = re.compile(r"^#{1,6}\s+(" + _NUMBER + r")\.?\s")


# --- which files ----------------------------------------------------------------------------


def _git_files(root: Path) -> list[str] | None:
    """Tracked and untracked (not ignored) files, or None when git cannot tell."""
    try:
        done = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return [name for name in done.stdout.decode("utf-8").split("\0") if name]


def _ignore_patterns(root: Path) -> list[str]:
    patterns = [".git"]
    gitignore = root / ".gitignore"
    if gitignore.is_file():
        for raw in gitignore.read_text(encoding="utf-8").splitlines():
            entry = raw.strip()
            if entry and not entry.startswith("#"):
                patterns.append(entry.rstrip("/"))
    return patterns


def walk_files(root: Path) -> list[str]:
    """Every file under ``root`` whose path has no component matching ``.gitignore``."""
    patterns = _ignore_patterns(root)

    def ignored(name: str) -> bool:
        return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)

    found: list[str] = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not ignored(d))
        base = Path(directory).relative_to(root)
        found.extend((base / name).as_posix() for name in sorted(files) if not ignored(name))
    return found


def repository_files(root: Path) -> list[str]:
    """Paths (relative, POSIX) of the repository's files, minus the skipped ones."""
    names = _git_files(root)
    if names is None:
        names = walk_files(root)
    return sorted(n for n in names if Path(n).name not in SKIPPED_FILES and (root / n).is_file())


def read_text(path: Path) -> str | None:
    """The file as text, or None for a binary file."""
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# --- what is wrong --------------------------------------------------------------------------


def protocol_sections(root: Path) -> dict[str, set[str]]:
    """Protocol note name (``dpm``) -> the section numbers its headings carry."""
    sections: dict[str, set[str]] = {}
    for note in sorted((root / PROTOCOLS).glob("*.md")):
        numbers = set()
        for line in note.read_text(encoding="utf-8").splitlines():
            match = HEADING.match(line)
            if match:
                numbers.add(match.group(1))
        sections[note.stem] = numbers
    return sections


def outside_references(name: str, text: str) -> list[str]:
    """``file:line: ...`` for every reference to a document outside the repository."""
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        for pattern, what in FORBIDDEN:
            if pattern.search(line):
                problems.append(f"{name}:{number}: refers to {what}: {line.strip()[:120]}")
    return problems


def citation_problems(name: str, text: str, sections: dict[str, set[str]]) -> list[str]:
    """``file:line: ...`` for citations that do not resolve and for bare section signs."""
    own_note = Path(name).stem if name.startswith(PROTOCOLS + "/") else None
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        rest = line
        for match in CITATION.finditer(line):
            note = match.group(1)
            cited = SECTION.findall(match.group(2))
            if note not in sections:
                problems.append(f"{name}:{number}: no such note {PROTOCOLS}/{note}.md")
            else:
                problems.extend(
                    f"{name}:{number}: {PROTOCOLS}/{note}.md has no section {SECTION_SIGN}{n}"
                    for n in cited
                    if n not in sections[note]
                )
            rest = rest.replace(match.group(0), " ", 1)
        if SECTION_SIGN not in rest:
            continue
        if own_note is None:
            problems.append(
                f"{name}:{number}: section sign outside a {PROTOCOLS} citation: "
                f"{line.strip()[:120]}"
            )
            continue
        problems.extend(
            f"{name}:{number}: {PROTOCOLS}/{own_note}.md has no section {SECTION_SIGN}{n}"
            for n in SECTION.findall(rest)
            if n not in sections.get(own_note, set())
        )
    return problems


def unlisted_vectors(vectors: Path) -> list[str]:
    """Vector files that the vectors README does not mention."""
    readme = vectors / "README.md"
    listed = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    return [
        f"{path.relative_to(ROOT).as_posix()}: not listed in tests/vectors/README.md"
        for path in sorted(vectors.glob("*.json"))
        if path.name not in listed
    ]


def _texts(root: Path) -> Iterable[tuple[str, str]]:
    for name in repository_files(root):
        text = read_text(root / name)
        if text is not None:
            yield name, text


# --- the repository -------------------------------------------------------------------------


def test_nothing_refers_to_outside_documents() -> None:
    problems = [p for name, text in _texts(ROOT) for p in outside_references(name, text)]
    assert not problems, "\n".join(problems)


def test_protocol_citations_resolve() -> None:
    sections = protocol_sections(ROOT)
    assert sections, f"no notes in {PROTOCOLS}"
    problems = [p for name, text in _texts(ROOT) for p in citation_problems(name, text, sections)]
    assert not problems, "\n".join(problems)


def test_every_vector_file_is_listed_in_its_readme() -> None:
    assert list(VECTORS.glob("*.json")), "no vector files found"
    problems = unlisted_vectors(VECTORS)
    assert not problems, "\n".join(problems)


def test_walk_finds_what_git_tracks() -> None:
    tracked = _git_files(ROOT)
    if tracked is None:
        pytest.skip("git is not available here")
    walked = set(walk_files(ROOT))
    missing = sorted(n for n in tracked if (ROOT / n).is_file() and n not in walked)
    assert not missing, f"the fallback walk misses tracked files: {missing[:20]}"


# --- the checks themselves ------------------------------------------------------------------


def test_outside_references_are_reported_with_file_and_line() -> None:
    text = "ok\nsee ../" + _SHARED + "/specs/dpm.md\nas the spec " + SECTION_SIGN + "3 says\n"
    problems = outside_references("pkg/mod.py", text)
    assert [p.split(": ")[0] for p in problems] == [
        "pkg/mod.py:2",
        "pkg/mod.py:2",
        "pkg/mod.py:3",
    ]


def test_citations_are_checked_against_headings() -> None:
    sections = {"dpm": {"1", "1.4", "4", "4.7.1"}}
    cite = PROTOCOLS + "/dpm.md "
    good = cite + SECTION_SIGN + "1.4, " + SECTION_SIGN + "4 and " + SECTION_SIGN + "4.7.1"
    assert citation_problems("a.py", good, sections) == []
    bad = "\n".join(
        [
            cite + SECTION_SIGN + "1-" + SECTION_SIGN + "9",
            PROTOCOLS + "/nosuch.md " + SECTION_SIGN + "1",
            "a bare " + SECTION_SIGN + "4 here",
        ]
    )
    assert citation_problems("a.py", bad, sections) == [
        f"a.py:1: {PROTOCOLS}/dpm.md has no section {SECTION_SIGN}9",
        f"a.py:2: no such note {PROTOCOLS}/nosuch.md",
        f"a.py:3: section sign outside a {PROTOCOLS} citation: a bare {SECTION_SIGN}4 here",
    ]


def test_a_bare_section_sign_in_a_note_cites_that_note() -> None:
    sections = {"dpm": {"4"}}
    text = "see " + SECTION_SIGN + "4 and " + SECTION_SIGN + "5"
    assert citation_problems(PROTOCOLS + "/dpm.md", text, sections) == [
        f"{PROTOCOLS}/dpm.md:1: {PROTOCOLS}/dpm.md has no section {SECTION_SIGN}5"
    ]


def test_headings_give_section_numbers(tmp_path: Path) -> None:
    notes = tmp_path / PROTOCOLS
    notes.mkdir(parents=True)
    (notes / "x.md").write_text("# X\n## 1. One\n### 1.2 Sub\n#### 1.2.3 Deep\n## Two\n")
    assert protocol_sections(tmp_path) == {"x": {"1", "1.2", "1.2.3"}}


def test_binary_files_are_skipped(tmp_path: Path) -> None:
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x89PNG\0\0" + ("../" + _SHARED).encode())
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"\xff\xfe not utf-8")
    assert read_text(binary) is None
    assert read_text(latin) is None


def test_walk_honours_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text(".venv/\n*.egg-info/\n")
    for name in (".venv/lib/x.py", "pkg.egg-info/PKG-INFO", "src/a.py", ".ci/run"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    assert sorted(walk_files(tmp_path)) == [".ci/run", ".gitignore", "src/a.py"]
