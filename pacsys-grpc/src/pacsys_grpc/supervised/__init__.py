"""Supervised mode: a gRPC DAQ proxy over any Backend, with policies and an audit log.

>>> from pacsys.testing import FakeBackend
>>> from pacsys_grpc.supervised import SupervisedServer, ReadOnlyPolicy
>>> fake = FakeBackend()
>>> fake.set_reading("M:OUTTMP", 72.5)
>>> with SupervisedServer(fake, port=0, host="127.0.0.1", policies=[ReadOnlyPolicy()]) as srv:
...     pass                                                  # clients dial srv.address

The policy classes live in :mod:`pacsys.policies` (core) and are re-exported here.
"""

from __future__ import annotations

from pacsys.policies import (
    DeviceAccessPolicy,
    Policy,
    PolicyDecision,
    RateLimitPolicy,
    ReadOnlyPolicy,
    RequestContext,
    SlewLimit,
    SlewRatePolicy,
    ValueRangePolicy,
    acceptable_drf,
    evaluate_policies,
)
from pacsys_grpc.supervised.audit import AuditLog
from pacsys_grpc.supervised.config import load_policies, policies_from_entries
from pacsys_grpc.supervised.server import SupervisedServer

__all__ = [
    "AuditLog",
    "DeviceAccessPolicy",
    "Policy",
    "PolicyDecision",
    "RateLimitPolicy",
    "ReadOnlyPolicy",
    "RequestContext",
    "SlewLimit",
    "SlewRatePolicy",
    "SupervisedServer",
    "ValueRangePolicy",
    "acceptable_drf",
    "evaluate_policies",
    "load_policies",
    "policies_from_entries",
]
