"""The policy contract: request context, decisions, the Policy ABC and chain evaluation.

A policy chain decides whether one supervised-server RPC may reach the backend.  Policies
may approve slots and replace Set payloads, but never change which DRFs are requested:
:func:`evaluate_policies` re-checks that after every policy, against a snapshot taken
before the first one ran, so a policy cannot redirect a request (not even by mutating the
context's lists in place).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

RPC_METHODS = ("Read", "Set")


@dataclasses.dataclass(frozen=True)
class RequestContext:
    """Everything a policy may look at for one RPC.

    ``values`` holds one ``(drf, decoded value)`` pair per slot for Set and is empty for
    Read.  ``allowed`` is the set of slot indices approved so far: all slots for Read,
    none for Set.  ``metadata`` keeps the last value of a repeated key.
    """

    drfs: list[str]
    rpc_method: str
    peer: str = "unknown"
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    values: list[tuple[str, Any]] = dataclasses.field(default_factory=list)
    raw_request: object = None
    allowed: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.rpc_method not in RPC_METHODS:
            raise ValueError(f"rpc_method must be 'Read' or 'Set', got {self.rpc_method!r}")
        if not isinstance(self.allowed, frozenset):
            object.__setattr__(self, "allowed", frozenset(self.allowed))

    @property
    def is_write(self) -> bool:
        return self.rpc_method == "Set"

    def approve(self, slots: Iterable[int]) -> RequestContext:
        """Return a copy with ``slots`` added to ``allowed``."""
        return dataclasses.replace(self, allowed=self.allowed | frozenset(slots))


@dataclasses.dataclass(frozen=True)
class PolicyDecision:
    """A policy's verdict.

    A denial needs a non-empty ``reason`` (it becomes the PERMISSION_DENIED details) and
    ignores ``ctx``.  An allow carries ``ctx=None`` when nothing changed, or the new
    context when the policy modified the request.
    """

    allowed: bool
    reason: str | None = None
    ctx: RequestContext | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.allowed, bool):
            raise TypeError(f"allowed must be a bool, got {type(self.allowed).__name__}")
        if self.reason is not None and not isinstance(self.reason, str):
            raise TypeError(f"reason must be a str or None, got {type(self.reason).__name__}")
        if not self.allowed and not self.reason:
            raise ValueError("A denying PolicyDecision requires a reason")
        if self.ctx is not None and not isinstance(self.ctx, RequestContext):
            raise TypeError(f"ctx must be a RequestContext or None, got {type(self.ctx).__name__}")


def allow(ctx: RequestContext | None = None) -> PolicyDecision:
    """An allow decision, optionally carrying a modified context."""
    return PolicyDecision(True, ctx=ctx)


def deny(reason: str) -> PolicyDecision:
    """A denial with the given client-visible reason."""
    return PolicyDecision(False, reason=reason)


class Policy(abc.ABC):
    """One access rule of a supervised server; implement :meth:`check`."""

    @abc.abstractmethod
    def check(self, ctx: RequestContext) -> PolicyDecision:
        """Allow, allow with a modified context, or deny this request."""

    @property
    def allows_writes(self) -> bool:
        """Whether this policy approves write slots (chooses the unapproved-write wording)."""
        return False


def evaluate_policies(policies: Sequence[Policy], ctx: RequestContext) -> PolicyDecision:
    """Run ``policies`` in order; the first denial wins and skips the rest.

    Each policy sees the context left by the previous one.  The result is an allow whose
    ``ctx`` is the final context.  ValueError when the incoming context is inconsistent or
    a policy produced an invalid one (changed DRFs, method or peer, out-of-range slots,
    values added to a Read, Set values misaligned with the DRFs); TypeError when a policy
    returns something that is not a PolicyDecision.
    """
    snapshot = _Snapshot.of(ctx)
    snapshot.validate(ctx, "the incoming request")
    current = ctx
    for policy in policies:
        decision = policy.check(current)
        label = f"policy {_label(policy)}"
        if not isinstance(decision, PolicyDecision):
            raise TypeError(f"{label} returned {type(decision).__name__}, not a PolicyDecision")
        if not decision.allowed:
            return decision
        if decision.ctx is not None:
            current = decision.ctx
        snapshot.validate(current, label)
    return PolicyDecision(True, ctx=current)


def _label(policy: object) -> str:
    name = getattr(policy, "name", None)
    return name if isinstance(name, str) else type(policy).__name__


@dataclasses.dataclass(frozen=True)
class _Snapshot:
    """Immutable copy of the request parts no policy may change."""

    drfs: tuple[str, ...]
    rpc_method: str
    peer: str
    value_count: int

    @classmethod
    def of(cls, ctx: RequestContext) -> _Snapshot:
        return cls(tuple(ctx.drfs), ctx.rpc_method, ctx.peer, len(ctx.values))

    def validate(self, ctx: RequestContext, who: str) -> None:
        if tuple(ctx.drfs) != self.drfs:
            raise ValueError(f"{who} changed the request DRFs")
        if ctx.rpc_method != self.rpc_method:
            raise ValueError(f"{who} changed the RPC method")
        if ctx.peer != self.peer:
            raise ValueError(f"{who} changed the peer")
        count = len(self.drfs)
        for slot in ctx.allowed:
            if isinstance(slot, bool) or not isinstance(slot, int) or not 0 <= slot < count:
                raise ValueError(f"{who} approved slot {slot!r}, out of range for {count} DRFs")
        if ctx.rpc_method == "Read":
            if ctx.values:
                raise ValueError(f"{who} added values to a Read request")
            return
        if len(ctx.values) != self.value_count:
            raise ValueError(f"{who} changed the number of Set values")
        if len(ctx.values) != count:
            raise ValueError(f"{who} has {len(ctx.values)} Set values for {count} DRFs")
        for slot, (item, drf) in enumerate(zip(ctx.values, self.drfs, strict=True)):
            if not isinstance(item, tuple | list) or len(item) != 2 or item[0] != drf:
                raise ValueError(f"{who} has Set value {slot} not paired with DRF {drf!r}")
