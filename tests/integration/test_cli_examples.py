"""Every example in the tools' ``--help`` and in docs/cli.md runs against the simulator.

Help examples run as subprocesses with ``-b sim`` (acmonitor also with ``-n 2`` when the
example has no stop condition).  docs/cli.md's ``$ ...`` lines run in order in bash, as the
page says, against ``pacsys serve`` (DPM, gRPC with writes allowed for ``Z:*``, ACL) started
here on free loopback ports; each must succeed, print as many lines as documented, and end
with the documented ``exit N`` where the page shows one.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
TOOLS = ("acget", "acput", "acmonitor", "acinfo")
DEVICES = "M:OUTTMP\nZ:ACLTST.SETTING  # a comment\n\nZ:SIMPS.STATUS.ON\n"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PACSYS_")}
    env["KRB5CCNAME"] = "FILE:/nonexistent/pacsys-cli-examples"  # no ticket, always
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def help_examples(tool: str) -> list[str]:
    """The example commands of ``tool --help`` (text before the two-space comment)."""
    done = subprocess.run(
        [str(BIN / tool), "--help"], capture_output=True, text=True, env=_env(), timeout=60
    )
    assert done.returncode == 0, done.stderr
    section = done.stdout.split("examples:", 1)[1].split("environment:", 1)[0]
    commands = []
    for line in section.splitlines():
        text = line.strip()
        if text.startswith(f"{tool} "):
            commands.append(re.split(r"\s{2,}", text, maxsplit=1)[0])
    return commands


def _help_cases() -> list[tuple[str, str]]:
    return [(tool, command) for tool in TOOLS for command in help_examples(tool)]


@pytest.mark.parametrize(("tool", "command"), _help_cases())
def test_help_example_runs_against_the_simulator(tool: str, command: str, tmp_path: Path) -> None:
    argv = shlex.split(command)
    if "-b" not in argv:
        argv += ["-b", "sim"]
    if tool == "acmonitor" and "-n" not in argv and "--duration" not in argv:
        argv += ["-n", "2"]
    (tmp_path / "devices.txt").write_text(DEVICES)
    done = subprocess.run(
        [str(BIN / argv[0]), *argv[1:]],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=90,
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    assert done.stdout.strip(), command


def test_every_tool_has_examples() -> None:
    assert all(len(help_examples(tool)) >= 4 for tool in TOOLS)


# --- docs/cli.md ----------------------------------------------------------------------------


def doc_examples() -> list[tuple[str, list[str]]]:
    """``(command, documented output lines)`` of every ``$`` line in docs/cli.md's blocks."""
    examples: list[tuple[str, list[str]]] = []
    in_block = False
    current: list[str] | None = None
    for line in DOCS.read_text().splitlines():
        if line.startswith("```"):
            in_block, current = not in_block, None
            continue
        if not in_block:
            continue
        if line.startswith("$ "):
            current = []
            examples.append((line[2:], current))
        elif current is not None:
            current.append(line)
    return [(c, out) for c, out in examples if not c.startswith("pacsys serve")]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``pacsys serve`` on free ports; the environment its ``export`` line gives clients."""
    home = tmp_path_factory.mktemp("serve")
    policies = home / "policies.json"
    policies.write_text(
        '[{"name": "device_access", "options": {"patterns": ["Z:*"], "action": "set"}}]'
    )
    env = {
        **_env(),
        "PACSYS_PLUGINS": "acl,dpm,grpc",
        "PACSYS_SUPERVISED_POLICIES": str(policies),
        "PACSYS_SUPERVISED_TOKEN": "s3cret",
    }
    ports = ("--dpm-port", "0", "--grpc-port", "0", "--acl-port", "0")
    process = subprocess.Popen(
        [str(BIN / "pacsys"), "serve", *ports],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        exported = None
        for line in process.stdout:  # until the export line (pytest-timeout guards a hang)
            if line.strip().startswith("export "):
                exported = line.split()[1:]
                break
        assert exported, "pacsys serve printed no export line"
        client = {**_env(), "PACSYS_JWT_TOKEN": "s3cret"}
        client.update(item.split("=", 1) for item in exported)
        yield client
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=10)


def _shown(output: str) -> list[str]:
    """Output lines as the page shows them: usage lines (before argparse errors) left out."""
    lines, usage = [], False
    for line in output.splitlines():
        if line.startswith("usage: "):
            usage = True
            continue
        if usage and line.startswith(" "):
            continue
        usage = False
        lines.append(line)
    return lines


def test_docs_have_examples_of_every_tool() -> None:
    commands = [command for command, _ in doc_examples()]
    assert all(any(c.startswith(f"{tool} ") for c in commands) for tool in TOOLS)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the page's commands run (``devices.txt`` there, as the page writes it)."""
    path = tmp_path_factory.mktemp("examples")
    (path / "devices.txt").write_text(DEVICES)
    return path


@pytest.mark.parametrize(
    ("command", "documented"), doc_examples(), ids=[c for c, _ in doc_examples()]
)
def test_docs_example_runs_as_documented(
    served: dict[str, str], workdir: Path, command: str, documented: list[str]
) -> None:
    done = subprocess.run(
        ["bash", "-c", command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=served,
        cwd=workdir,
        timeout=90,
    )
    shown = _shown(done.stdout)
    assert done.returncode == 0, f"$ {command}\n{done.stdout}"
    assert len(shown) == len(documented), f"$ {command}\n{done.stdout}"
    if documented and documented[-1].startswith("exit "):
        assert shown[-1] == documented[-1], f"$ {command}\n{done.stdout}"
