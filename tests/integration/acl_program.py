"""An ``acl`` program for the SSH tests: pacsys's ACL interpreter over the simulator.

Installed as ``acl`` on the sshd sessions' PATH by a wrapper (the ``ssh_client`` fixture in
conftest.py), behaving as the real program does over SSH (docs/protocols/acl.md):

* ``acl <file>``: for each script line print ``\\nACL> <line>\\n\\n``, then the line's
  output followed by ``\\n\\n``; finally ``\\nACL> \\n``. Variables live for the whole file.
  A failing line prints its error text, stops the script and exits 1 (stderr stays empty).
* ``acl`` (no arguments, no pty): banner, then prompt ``\\nACL> ``; each stdin line is
  echoed, its output printed as ``\\n<output>\\n``, then the prompt again. Every line is a
  separate execution. Ends cleanly at end of input.
"""

from __future__ import annotations

import sys

from pacsys.sim import SimBackend
from pacsys_acl.interpreter import ACLInterpreter


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def run_file(interpreter: ACLInterpreter, path: str) -> int:
    """Run a script file line by line; 0 when every line succeeded."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        _write(f"\nCannot open script file {path} ({exc.strerror}) - CLIB_NOFILE\n")
        return 1
    scope = interpreter.new_scope()
    for line in lines:
        if not line.strip():
            continue
        _write(f"\nACL> {line}\n\n")
        outcome = interpreter.run(line, scope=scope)
        if outcome.text:
            _write(f"{outcome.text}\n\n")
        if outcome.failed:
            return 1
    _write("\nACL> \n")
    return 0


def run_interactive(interpreter: ACLInterpreter) -> int:
    """Serve stdin line by line with the ``\\nACL> `` prompt until end of input."""
    _write("pacsys test ACL (simulated devices)\n\nACL> ")
    for raw in sys.stdin:
        line = raw.rstrip("\r\n")
        _write(f"{line}\n")
        if line.strip() in {"exit", "quit"}:
            return 0
        text = interpreter.execute(line) if line.strip() else ""
        if text:
            _write(f"\n{text}\n")
        _write("\nACL> ")
    return 0


def main(argv: list[str]) -> int:
    backend = SimBackend()
    try:
        interpreter = ACLInterpreter(backend)
        if len(argv) > 1:
            return run_file(interpreter, argv[1])
        return run_interactive(interpreter)
    finally:
        backend.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
