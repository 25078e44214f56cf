"""Policies named in a configuration file, built through the policy hook (the registry).

Accepted shapes (JSON, or TOML on Python 3.11+)::

    [{"name": "device_access", "options": {"patterns": ["Z:*"], "action": "set"}}]
    {"policies": [...]}                    # JSON
    [[policy]]                             # TOML
    name = "rate_limit"
    options = { max_requests = 100 }

Each ``name`` is looked up with ``get_registry().create_policy(name, **options)``, so site
plugins that register a PolicySpec can be named here without code changes.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pacsys.policies import Policy

__all__ = ["load_policies", "policies_from_entries"]


def _parse(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:
            try:
                import tomli as tomllib
            except ImportError:
                raise ValueError(
                    f"{path}: TOML policy files need Python 3.11+ (or tomli); use JSON"
                ) from None
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: invalid TOML: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: invalid JSON: {exc}") from exc


def policies_from_entries(entries: Any, *, source: str = "policy configuration") -> list[Policy]:
    """Build policies from ``[{"name": ..., "options": {...}}, ...]`` (or a wrapping dict)."""
    if isinstance(entries, Mapping):
        entries = entries.get("policies", entries.get("policy"))
    if isinstance(entries, str | bytes) or not isinstance(entries, Sequence):
        raise ValueError(f"{source}: expected a list of policy entries")
    from pacsys.registry import get_registry

    registry = get_registry()
    policies: list[Policy] = []
    for position, entry in enumerate(entries):
        where = f"{source}: entry {position}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} must be a table/object with 'name' and 'options'")
        unknown = sorted(set(entry) - {"name", "options"})
        if unknown:
            raise ValueError(f"{where} has unknown keys {unknown}")
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where} needs a non-empty 'name'")
        options = entry.get("options", {})
        if not isinstance(options, Mapping):
            raise ValueError(f"{where} ({name}): 'options' must be a table/object")
        try:
            policy = registry.create_policy(name, **dict(options))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where} ({name}): {exc}") from exc
        if not isinstance(policy, Policy):
            raise ValueError(f"{where} ({name}): factory returned {type(policy).__name__}")
        policies.append(policy)
    return policies


def load_policies(path: str | os.PathLike[str]) -> list[Policy]:
    """Policies from a JSON or TOML file (see the module docstring for the format)."""
    file = Path(path)
    return policies_from_entries(_parse(file), source=str(file))
