"""The whole supervised-server decision for one RPC: DRF gate, policy chain, unapproved slots."""

from __future__ import annotations

from collections.abc import Sequence

from pacsys.policies._drf import UnacceptableDRF, resolve
from pacsys.policies.base import Policy, PolicyDecision, RequestContext, deny, evaluate_policies


def authorize(policies: Sequence[Policy], ctx: RequestContext) -> PolicyDecision:
    """Decide an RPC with the exact client-visible reasons (docs/protocols/grpc.md §7.2-§7.3).

    Denies a DRF failing the gate, then returns the chain's first denial, then denies when
    a slot is still unapproved ("Read denied by policy: …", "No policy explicitly allows
    write operations", "No write policy approves: …").  An allow carries the final context
    (its Set values are what to write).  Errors of :func:`evaluate_policies` propagate.
    """
    for drf in ctx.drfs:
        try:
            resolve(drf, for_write=ctx.is_write)
        except UnacceptableDRF as exc:
            return deny(str(exc))
    decision = evaluate_policies(policies, ctx)
    if not decision.allowed:
        return decision
    final = decision.ctx if decision.ctx is not None else ctx
    missing = [slot for slot in range(len(final.drfs)) if slot not in final.allowed]
    if not missing:
        return decision
    names = ", ".join(resolve(final.drfs[slot]).name for slot in missing)
    if not final.is_write:
        return deny(f"Read denied by policy: {names}")
    if not any(getattr(policy, "allows_writes", False) is True for policy in policies):
        return deny("No policy explicitly allows write operations")
    return deny(f"No write policy approves: {names}")
