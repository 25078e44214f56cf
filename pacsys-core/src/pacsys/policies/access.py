"""Access policies: read-only servers and device allow/deny lists."""

from __future__ import annotations

from collections.abc import Sequence

from pacsys.policies._drf import NameMatcher, UnacceptableDRF, check_patterns, resolve
from pacsys.policies.base import Policy, PolicyDecision, RequestContext, allow, deny

_MODES = ("allow", "deny")
_ACTIONS = ("all", "read", "set")


class ReadOnlyPolicy(Policy):
    """Deny every Set ("Write operations disabled"); reads pass."""

    def check(self, ctx: RequestContext) -> PolicyDecision:
        if ctx.rpc_method != "Read":
            return deny("Write operations disabled")
        return allow()

    def __repr__(self) -> str:
        return "ReadOnlyPolicy()"


class DeviceAccessPolicy(Policy):
    """Allow or deny requests by device-name pattern.

    The policy applies when ``action`` is ``"all"`` or names the RPC (``"read"``/``"set"``).
    Each DRF is parsed and matched by its canonical device name, so ``z_acltst.set[0:3]``
    is ``Z:ACLTST``.  ``deny`` mode refuses the whole request if any slot matches; ``allow``
    mode approves matching slots and leaves the others unapproved (it never denies a
    well-formed request).  A DRF that fails the gate denies in both modes.  ``allow`` with
    ``action="read"`` is refused: reads start fully approved, so it could only mislead.
    """

    def __init__(
        self,
        patterns: Sequence[str],
        mode: str = "allow",
        action: str = "all",
        syntax: str = "glob",
    ) -> None:
        if mode not in _MODES:
            raise ValueError(f"mode must be 'allow' or 'deny', got {mode!r}")
        if action not in _ACTIONS:
            raise ValueError(f"action must be 'all', 'read' or 'set', got {action!r}")
        if mode == "allow" and action == "read":
            raise ValueError(
                "mode='allow' with action='read' has no effect: reads are approved by default;"
                " use mode='deny' to restrict reads"
            )
        self.patterns = check_patterns(patterns, "patterns")
        self.mode = mode
        self.action = action
        self.syntax = syntax
        self._matcher = NameMatcher(self.patterns, syntax)

    @property
    def allows_writes(self) -> bool:
        return self.mode == "allow" and self.action in ("set", "all")

    def applies_to(self, ctx: RequestContext) -> bool:
        return self.action == "all" or self.action == ctx.rpc_method.lower()

    def check(self, ctx: RequestContext) -> PolicyDecision:
        if not self.applies_to(ctx):
            return allow()
        matched: list[int] = []
        for slot, drf in enumerate(ctx.drfs):
            try:
                ref = resolve(drf, for_write=ctx.is_write)
            except UnacceptableDRF as exc:
                return deny(str(exc))
            if self._matcher.matches(ref):
                if self.mode == "deny":
                    return deny(f"Device {ref.name} is denied")
                matched.append(slot)
        if self.mode == "deny" or ctx.allowed.issuperset(matched):
            return allow()
        return allow(ctx.approve(matched))

    def __repr__(self) -> str:
        return (
            f"DeviceAccessPolicy({list(self.patterns)!r}, mode={self.mode!r},"
            f" action={self.action!r}, syntax={self.syntax!r})"
        )
