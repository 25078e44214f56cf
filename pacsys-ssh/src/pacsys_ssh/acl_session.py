"""ACL over SSH: the persistent :class:`ACLSession` and the one-shot script runner.

Wire behaviour follows the ``acl`` program: the session prompt is ``\\nACL> `` and each
``send`` is a separate script execution (no state survives between calls).
"""

from __future__ import annotations

import logging
import re
import shlex
from typing import TYPE_CHECKING

from pacsys.errors import ACLError
from pacsys_ssh._closing import Closing
from pacsys_ssh.errors import SSHError
from pacsys_ssh.process import RemoteProcess

if TYPE_CHECKING:
    from pacsys_ssh.client import SSHClient

__all__ = ["PROMPT", "ACLError", "ACLSession", "clean_acl_output", "run_acl_script"]

logger = logging.getLogger("pacsys_ssh.acl")

PROMPT = b"\nACL> "
DEFAULT_TIMEOUT = 30.0
CLEANUP_TIMEOUT = 5.0
MKTEMP = "mktemp --suffix=.acl /tmp/pacsys_acl_XXXXXXXX"
_TEMP_PATH = re.compile(r"/tmp/pacsys_acl_[A-Za-z0-9]{8}\.acl")


def clean_acl_output(text: str) -> str:
    """Drop prompt lines (``ACL>`` plus the echoed command) and surrounding whitespace."""
    lines = [line for line in text.split("\n") if not line.startswith("ACL>")]
    return "\n".join(lines).strip()


def _script_lines(command: str | list[str]) -> list[str]:
    if isinstance(command, str):
        return [command]
    if isinstance(command, (list, tuple)):
        if not command:
            raise ValueError("command list must not be empty")
        for item in command:
            if not isinstance(item, str):
                raise TypeError(f"ACL commands must be str, got {type(item).__name__}")
        return list(command)
    raise TypeError(f"command must be a str or a list of str, got {type(command).__name__}")


def run_acl_script(ssh: SSHClient, command: str | list[str], timeout: float | None) -> str:
    """Run ACL lines as a remote script file (mktemp, cat, acl, rm) and return clean stdout."""
    lines = _script_lines(command)
    limit = DEFAULT_TIMEOUT if timeout is None else timeout
    created = ssh.exec(MKTEMP, timeout=limit)
    path = None
    for line in created.stdout.splitlines():
        if _TEMP_PATH.fullmatch(line.strip()):
            path = line.strip()
    if not created.ok or path is None:
        detail = (
            created.stderr.strip() or created.stdout.strip() or f"exit code {created.exit_code}"
        )
        raise ACLError(f"Failed to create ACL script file: {detail}")
    quoted = shlex.quote(path)
    try:
        written = ssh.exec(f"cat > {quoted}", timeout=limit, input="\n".join(lines) + "\n")
        if not written.ok:
            detail = written.stderr.strip() or f"exit code {written.exit_code}"
            raise ACLError(f"Failed to write ACL script: {detail}")
        result = ssh.exec(f"acl {quoted}", timeout=limit)
    finally:
        try:
            removed = ssh.exec(f"rm -f {quoted}", timeout=CLEANUP_TIMEOUT)
            if not removed.ok:
                logger.warning("could not remove %s: %s", path, removed.stderr.strip())
        except Exception as exc:
            logger.warning("could not remove %s: %s", path, exc)
    if result.ok:
        return clean_acl_output(result.stdout)
    stderr, stdout = result.stderr.strip(), result.stdout.strip()
    if stderr or not stdout:
        detail = "; ".join(part for part in (stderr, stdout) if part)
        raise ACLError(f"ACL script failed: {detail or f'exit code {result.exit_code}'}")
    return clean_acl_output(result.stdout)


class ACLSession(Closing):
    """Persistent ACL interpreter over an SSH channel. Not thread-safe; does not own ``ssh``.

    Each :meth:`send` is a separate script execution; join dependent statements with ``;``.
    """

    def __init__(self, ssh: SSHClient, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._timeout = timeout
        self._process: RemoteProcess | None = RemoteProcess(ssh, "acl", timeout=timeout)
        try:
            self._process.read_until(PROMPT, timeout=timeout)
        except SSHError as exc:
            self.close()
            raise ACLError(f"Failed to start ACL session: {exc}") from exc

    @property
    def closed(self) -> bool:
        """True once closed (explicitly or after a failed send)."""
        return self._process is None

    def send(self, command: str, timeout: float | None = None) -> str:
        """Run one ACL line and return its output without the prompt and the echoed command."""
        process = self._process
        if process is None:
            raise ACLError("ACL session is closed")
        if not isinstance(command, str):
            raise TypeError(f"command must be a str, got {type(command).__name__}")
        if "\n" in command or "\r" in command:
            raise ValueError("ACL session commands must be one line; join statements with ';'")
        try:
            process.send_line(command)
            raw = process.read_until(PROMPT, timeout=self._timeout if timeout is None else timeout)
        except (SSHError, OSError, EOFError) as exc:
            self.close()
            raise ACLError(str(exc) or type(exc).__name__) from exc
        text = raw.decode("utf-8", errors="replace").strip()
        if "\n" not in text:
            return ""
        return text.split("\n", 1)[1].strip()

    def close(self) -> None:
        """Close the channel (never the SSH connection); idempotent."""
        process, self._process = self._process, None
        if process is not None:
            process.close()

    def __repr__(self) -> str:
        return f"ACLSession({'closed' if self._process is None else 'open'})"
