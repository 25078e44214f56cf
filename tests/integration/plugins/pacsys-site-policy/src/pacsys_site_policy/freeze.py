"""Deny writes to devices a site has frozen (e.g. during a maintenance window)."""

from __future__ import annotations

from pacsys.drf3 import parse_request
from pacsys.policies import Policy, PolicyDecision, RequestContext


class FreezePolicy(Policy):
    def __init__(self, devices: list[str]) -> None:
        self.devices = {parse_request(d).device for d in devices}

    def check(self, ctx: RequestContext) -> PolicyDecision:
        if ctx.is_write:
            for drf in ctx.drfs:
                name = parse_request(drf).device
                if name in self.devices:
                    return PolicyDecision(False, reason=f"{name} is frozen by the site")
        return PolicyDecision(True)
