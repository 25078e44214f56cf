"""``pacsys plugins``: what is installed, from which distribution, offering what."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pacsys.cli._format import redact_url
from pacsys.registry import Registry, get_registry


def add_parser(commands: Any) -> None:
    """Add the ``plugins`` subcommand to the ``pacsys`` command's subparsers."""
    parser = commands.add_parser(
        "plugins",
        help="list installed plugins",
        description="List every pacsys plugin with its distribution, version, hooks and "
        "what it provides (backends with capabilities, auth methods, policies, server "
        "adapters for pacsys serve, device-metadata sources).",
        epilog="example:\n  pacsys plugins --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(run=run)


def _capabilities(flags: Any) -> list[str]:
    return [member.name for member in type(flags) if member in flags and member.name]


def describe(registry: Registry) -> list[dict[str, Any]]:
    """One dict per plugin: its metadata and the specs it contributes."""
    backends = registry.backends().values()
    auths = registry.auth_methods().values()
    policies = registry.policies().values()
    servers = registry.servers().values()
    sources = registry.metadata_sources().values()
    described = []
    for info in registry.plugins():

        def mine(spec: Any, info: Any = info) -> bool:
            return spec.distribution == info.distribution and info.distribution is not None

        entry: dict[str, Any] = {
            "name": info.name,
            "distribution": info.distribution,
            "version": info.version,
            "hooks": list(info.hooks),
        }
        if info.error:
            entry["error"] = info.error
        else:
            entry["backends"] = [
                {
                    "name": b.name,
                    "aliases": list(b.aliases),
                    "capabilities": _capabilities(b.capabilities),
                    "description": b.description,
                }
                for b in backends
                if mine(b)
            ]
            entry["auth_methods"] = [a.name for a in auths if mine(a)]
            entry["policies"] = [p.name for p in policies if mine(p)]
            entry["servers"] = [
                {
                    "name": s.name,
                    "option": s.option,
                    "default": redact_url(s.default),
                    "description": s.description,
                }
                for s in servers
                if mine(s)
            ]
            entry["metadata_sources"] = [m.name for m in sources if mine(m)]
        described.append(entry)
    return described


def render_text(entries: list[dict[str, Any]]) -> str:
    """The human-readable listing of :func:`describe`'s entries."""
    lines = []
    for entry in entries:
        where = f"{entry['distribution'] or 'in-process'} {entry['version'] or ''}".strip()
        lines.append(f"{entry['name']}  ({where})")
        if "error" in entry:
            lines.append(f"  FAILED TO LOAD: {entry['error']}")
            continue
        lines.append(f"  hooks: {', '.join(entry['hooks']) or '-'}")
        for backend in entry["backends"]:
            aliases = f" (alias {', '.join(backend['aliases'])})" if backend["aliases"] else ""
            lines.append(f"  backend {backend['name']}{aliases}: {backend['description']}")
            lines.append(f"    capabilities: {', '.join(backend['capabilities'])}")
        if entry["auth_methods"]:
            lines.append(f"  auth methods: {', '.join(entry['auth_methods'])}")
        if entry["policies"]:
            lines.append(f"  policies: {', '.join(entry['policies'])}")
        for server in entry["servers"]:
            option = (
                f" ({server['option']}, default {server['default']})" if server["option"] else ""
            )
            lines.append(f"  server {server['name']}{option}: {server['description']}")
        if entry.get("metadata_sources"):
            lines.append(f"  metadata sources: {', '.join(entry['metadata_sources'])}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print the installed plugins (text, or JSON with ``--json``)."""
    entries = describe(get_registry())
    print(json.dumps(entries, indent=2) if args.json else render_text(entries))
    return 0
