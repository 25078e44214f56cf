"""Write-safety policies (docs/protocols/grpc.md §7.5): contract, built-ins, no-bypass checks."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pacsys.hookspecs import PolicySpec
from pacsys.policies import (
    BUILTIN_POLICY_SPECS,
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
    authorize,
    evaluate_policies,
)
from pacsys.policies.rate import PRUNE_THRESHOLD, peer_key
from pacsys.policies.values import flatten_numbers
from pacsys.types import BasicControl

PEER = "ipv4:10.1.2.3:40000"


def read_ctx(*drfs: str, peer: str = PEER) -> RequestContext:
    """A Read context as the server builds it: every slot approved, no values."""
    return RequestContext(list(drfs), "Read", peer, allowed=frozenset(range(len(drfs))))


def set_ctx(*pairs: tuple[str, Any], peer: str = PEER) -> RequestContext:
    """A Set context as the server builds it: values aligned with DRFs, nothing approved."""
    return RequestContext([drf for drf, _ in pairs], "Set", peer, values=list(pairs))


class FakeClock:
    """A settable monotonic clock."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Recorder(Policy):
    """Allows, optionally with a transformed context, and records what it saw."""

    def __init__(self, transform: Callable[[RequestContext], RequestContext] | None = None):
        self.seen: list[RequestContext] = []
        self.transform = transform

    def check(self, ctx: RequestContext) -> PolicyDecision:
        self.seen.append(ctx)
        return PolicyDecision(True, ctx=self.transform(ctx) if self.transform else None)


class Denier(Policy):
    def __init__(self, reason: str = "nope") -> None:
        self.reason = reason
        self.calls = 0

    def check(self, ctx: RequestContext) -> PolicyDecision:
        self.calls += 1
        return PolicyDecision(False, self.reason)


def reason_of(policy: Policy, ctx: RequestContext) -> str | None:
    decision = policy.check(ctx)
    return None if decision.allowed else decision.reason


# --------------------------------------------------------------------------- contract


class TestRequestContext:
    def test_is_frozen(self) -> None:
        ctx = read_ctx("M:OUTTMP")
        with pytest.raises(dataclasses.FrozenInstanceError):
            ctx.drfs = ["G:AMANDA"]  # type: ignore[misc]

    def test_fields_and_defaults(self) -> None:
        ctx = RequestContext(["M:OUTTMP"], "Set")
        assert ctx.peer == "unknown"
        assert ctx.metadata == {}
        assert ctx.values == []
        assert ctx.raw_request is None
        assert ctx.allowed == frozenset()
        assert ctx.is_write

    @pytest.mark.parametrize("method", ["read", "SET", "Get", ""])
    def test_unknown_rpc_method_rejected(self, method: str) -> None:
        with pytest.raises(ValueError, match="rpc_method"):
            RequestContext(["M:OUTTMP"], method)

    def test_allowed_is_coerced_to_frozenset(self) -> None:
        ctx = RequestContext(["A:B1", "A:B2"], "Read", allowed={0, 1})  # type: ignore[arg-type]
        assert isinstance(ctx.allowed, frozenset)
        assert ctx.allowed == {0, 1}

    def test_approve_returns_new_context(self) -> None:
        ctx = set_ctx(("M:OUTTMP", 1.0), ("G:AMANDA", 2.0))
        approved = ctx.approve([1])
        assert approved.allowed == {1}
        assert ctx.allowed == frozenset()


class TestPolicyDecision:
    def test_denial_requires_reason(self) -> None:
        with pytest.raises(ValueError, match="reason"):
            PolicyDecision(False)
        with pytest.raises(ValueError, match="reason"):
            PolicyDecision(False, "")

    def test_allowed_must_be_bool(self) -> None:
        with pytest.raises(TypeError):
            PolicyDecision(1)  # type: ignore[arg-type]

    def test_ctx_must_be_context(self) -> None:
        with pytest.raises(TypeError):
            PolicyDecision(True, ctx={"drfs": []})  # type: ignore[arg-type]

    def test_frozen_and_fields(self) -> None:
        decision = PolicyDecision(False, "because")
        assert (decision.allowed, decision.reason, decision.ctx) == (False, "because", None)
        with pytest.raises(dataclasses.FrozenInstanceError):
            decision.allowed = True  # type: ignore[misc]


class TestPolicyBase:
    def test_is_abstract(self) -> None:
        with pytest.raises(TypeError):
            Policy()  # type: ignore[abstract]

    def test_allows_writes_defaults_false(self) -> None:
        assert Recorder().allows_writes is False


# --------------------------------------------------------------------------- evaluate_policies


class TestEvaluatePolicies:
    def test_empty_chain_allows_with_original_context(self) -> None:
        ctx = read_ctx("M:OUTTMP")
        decision = evaluate_policies([], ctx)
        assert decision.allowed and decision.ctx is ctx

    def test_each_policy_sees_previous_context(self) -> None:
        ctx = set_ctx(("M:OUTTMP", 1.0), ("G:AMANDA", 2.0))
        first = Recorder(lambda c: c.approve([0]))
        second = Recorder(lambda c: c.approve([1]))
        third = Recorder()
        decision = evaluate_policies([first, second, third], ctx)
        assert first.seen == [ctx]
        assert second.seen[0].allowed == {0}
        assert third.seen[0].allowed == {0, 1}
        assert decision.allowed and decision.ctx is not None
        assert decision.ctx.allowed == {0, 1}

    def test_first_denial_short_circuits(self) -> None:
        first, second, after = Denier("first"), Denier("second"), Recorder()
        decision = evaluate_policies([Recorder(), first, second, after], read_ctx("M:OUTTMP"))
        assert not decision.allowed
        assert decision.reason == "first"
        assert (first.calls, second.calls, after.seen) == (1, 0, [])

    def test_values_may_be_replaced(self) -> None:
        def clamp(ctx: RequestContext) -> RequestContext:
            values = [(drf, min(value, 10.0)) for drf, value in ctx.values]
            return dataclasses.replace(ctx, values=values)

        ctx = set_ctx(("Z:ACLTST", 50.0), ("M:OUTTMP", 3.0))
        decision = evaluate_policies([Recorder(clamp)], ctx)
        assert decision.ctx is not None
        assert decision.ctx.values == [("Z:ACLTST", 10.0), ("M:OUTTMP", 3.0)]
        assert decision.ctx.drfs == ["Z:ACLTST", "M:OUTTMP"]

    @pytest.mark.parametrize(
        ("transform", "message"),
        [
            (lambda c: dataclasses.replace(c, drfs=["M:OUTTMP"]), "changed the request DRFs"),
            (lambda c: dataclasses.replace(c, drfs=c.drfs[::-1]), "changed the request DRFs"),
            (lambda c: dataclasses.replace(c, allowed=frozenset({2})), "out of range"),
            (lambda c: dataclasses.replace(c, allowed=frozenset({-1})), "out of range"),
            (lambda c: dataclasses.replace(c, allowed=frozenset({"0"})), "out of range"),
            (lambda c: dataclasses.replace(c, rpc_method="Read"), "RPC method"),
            (lambda c: dataclasses.replace(c, peer="ipv4:1.1.1.1:1"), "peer"),
            (lambda c: dataclasses.replace(c, values=c.values[:1]), "number of Set values"),
            (
                lambda c: dataclasses.replace(c, values=[*c.values, ("Z:ACLTST", 1.0)]),
                "number of Set values",
            ),
            (
                lambda c: dataclasses.replace(c, values=[("M:OUTTMP", 1.0), ("Z:ACLTST", 2.0)]),
                "not paired",
            ),
            (
                lambda c: dataclasses.replace(c, values=[("Z:ACLTST", 1.0), ("G:OTHER", 2.0)]),
                "not paired",
            ),
            (lambda c: dataclasses.replace(c, values=[("Z:ACLTST",), c.values[1]]), "not paired"),
        ],
    )
    def test_invalid_set_context_raises(self, transform: Any, message: str) -> None:
        ctx = set_ctx(("Z:ACLTST", 1.0), ("M:OUTTMP", 2.0))
        with pytest.raises(ValueError, match=message):
            evaluate_policies([Recorder(transform)], ctx)

    def test_in_place_drf_mutation_is_caught(self) -> None:
        def mutate(ctx: RequestContext) -> RequestContext:
            ctx.drfs[0] = "M:OUTTMP"
            return ctx

        with pytest.raises(ValueError, match="changed the request DRFs"):
            evaluate_policies([Recorder(mutate)], read_ctx("Z:ACLTST"))

    def test_read_gaining_values_raises(self) -> None:
        add = Recorder(lambda c: dataclasses.replace(c, values=[("Z:ACLTST", 1.0)]))
        with pytest.raises(ValueError, match="added values to a Read"):
            evaluate_policies([add], read_ctx("Z:ACLTST"))

    def test_invalid_change_raises_even_when_later_policy_would_allow(self) -> None:
        redirect = Recorder(lambda c: dataclasses.replace(c, drfs=["M:OUTTMP"]))
        later = Recorder()
        with pytest.raises(ValueError):
            evaluate_policies([redirect, later], read_ctx("Z:ACLTST"))
        assert later.seen == []

    def test_inconsistent_incoming_context_raises(self) -> None:
        ctx = RequestContext(["Z:ACLTST"], "Set", values=[("M:OUTTMP", 1.0)])
        with pytest.raises(ValueError, match="not paired"):
            evaluate_policies([], ctx)

    def test_non_decision_return_raises(self) -> None:
        class Broken(Policy):
            def check(self, ctx: RequestContext) -> PolicyDecision:
                return True  # type: ignore[return-value]

        with pytest.raises(TypeError, match="PolicyDecision"):
            evaluate_policies([Broken()], read_ctx("M:OUTTMP"))

    def test_policy_exception_propagates(self) -> None:
        class Exploding(Policy):
            def check(self, ctx: RequestContext) -> PolicyDecision:
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            evaluate_policies([Exploding()], read_ctx("M:OUTTMP"))


# --------------------------------------------------------------------------- ReadOnlyPolicy


class TestReadOnlyPolicy:
    def test_denies_set(self) -> None:
        decision = ReadOnlyPolicy().check(set_ctx(("M:OUTTMP", 1.0)))
        assert not decision.allowed
        assert decision.reason == "Write operations disabled"

    def test_allows_read_unchanged(self) -> None:
        decision = ReadOnlyPolicy().check(read_ctx("M:OUTTMP"))
        assert decision.allowed and decision.ctx is None

    def test_does_not_gate_writes(self) -> None:
        assert ReadOnlyPolicy().allows_writes is False


# --------------------------------------------------------------------------- DeviceAccessPolicy


class TestDeviceAccessConstruction:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {"patterns": []},
            {"patterns": "M:*"},
            {"patterns": [""]},
            {"patterns": [3]},
            {"patterns": ["M:*"], "mode": "block"},
            {"patterns": ["M:*"], "action": "write"},
            {"patterns": ["M:*"], "syntax": "re"},
            {"patterns": ["M:(*"], "syntax": "regex"},
            {"patterns": ["M:*"], "mode": "allow", "action": "read"},
        ],
    )
    def test_invalid_arguments(self, kwargs: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            DeviceAccessPolicy(**kwargs)

    def test_allow_read_combination_is_the_rejected_one(self) -> None:
        with pytest.raises(ValueError, match="read"):
            DeviceAccessPolicy(["M:*"], mode="allow", action="read")
        DeviceAccessPolicy(["M:*"], mode="deny", action="read")

    @pytest.mark.parametrize(
        ("mode", "action", "expected"),
        [
            ("allow", "all", True),
            ("allow", "set", True),
            ("deny", "all", False),
            ("deny", "set", False),
            ("deny", "read", False),
        ],
    )
    def test_allows_writes(self, mode: str, action: str, expected: bool) -> None:
        assert DeviceAccessPolicy(["M:*"], mode=mode, action=action).allows_writes is expected


class TestDeviceAccessPolicy:
    def test_allow_approves_matching_slots_only(self) -> None:
        policy = DeviceAccessPolicy(["M:*", "G:AMANDA"])
        ctx = set_ctx(("M:OUTTMP", 1.0), ("Z:ACLTST", 2.0), ("G:AMANDA", 3.0))
        decision = policy.check(ctx)
        assert decision.allowed and decision.ctx is not None
        assert decision.ctx.allowed == {0, 2}

    def test_allow_never_denies_and_keeps_existing_approvals(self) -> None:
        policy = DeviceAccessPolicy(["M:*"])
        ctx = set_ctx(("Z:ACLTST", 1.0), ("M:OUTTMP", 2.0)).approve([0])
        decision = policy.check(ctx)
        assert decision.allowed and decision.ctx is not None
        assert decision.ctx.allowed == {0, 1}

    def test_allow_with_nothing_new_returns_no_context(self) -> None:
        decision = DeviceAccessPolicy(["Q:*"]).check(set_ctx(("M:OUTTMP", 1.0)))
        assert decision.allowed and decision.ctx is None

    def test_deny_names_canonical_device(self) -> None:
        policy = DeviceAccessPolicy(["Z:*"], mode="deny")
        assert reason_of(policy, read_ctx("M:OUTTMP", "z_acltst")) == "Device Z:ACLTST is denied"

    def test_deny_allows_non_matching(self) -> None:
        policy = DeviceAccessPolicy(["Z:*"], mode="deny")
        decision = policy.check(read_ctx("M:OUTTMP", "G:AMANDA"))
        assert decision.allowed and decision.ctx is None

    def test_glob_features(self) -> None:
        policy = DeviceAccessPolicy(["?:OUT*", "G:AMAND[AB]"], mode="deny")
        assert reason_of(policy, read_ctx("M:OUTTMP")) == "Device M:OUTTMP is denied"
        assert reason_of(policy, read_ctx("G:AMANDB")) == "Device G:AMANDB is denied"
        assert reason_of(policy, read_ctx("G:AMANDC")) is None
        assert reason_of(policy, read_ctx("M:INTTMP")) is None

    def test_regex_must_match_whole_name(self) -> None:
        partial = DeviceAccessPolicy(["Z:ACL", "ACLTST"], mode="deny", syntax="regex")
        assert reason_of(partial, read_ctx("Z:ACLTST")) is None
        whole = DeviceAccessPolicy([r"Z:ACL\w+"], mode="deny", syntax="regex")
        assert reason_of(whole, read_ctx("Z:ACLTST")) == "Device Z:ACLTST is denied"

    def test_regex_alternation_is_anchored_as_a_whole(self) -> None:
        policy = DeviceAccessPolicy(["M:OUTTMP|Z:ACL"], mode="deny", syntax="regex")
        assert reason_of(policy, read_ctx("Z:ACLTST")) is None
        assert reason_of(policy, read_ctx("M:OUTTMP")) == "Device M:OUTTMP is denied"

    @pytest.mark.parametrize("syntax", ["glob", "regex"])
    @pytest.mark.parametrize("pattern", ["z:acltst", "Z:AcLtSt", "Z:ACLTST"])
    def test_acnet_matching_ignores_case(self, syntax: str, pattern: str) -> None:
        policy = DeviceAccessPolicy([pattern], mode="deny", syntax=syntax)
        assert reason_of(policy, read_ctx("z:acltst")) == "Device Z:ACLTST is denied"

    @pytest.mark.parametrize("syntax", ["glob", "regex"])
    def test_epics_matching_is_case_sensitive(self, syntax: str) -> None:
        exact = "PV:NAME" if syntax == "glob" else "PV:NA.E"
        folded = "pv:name" if syntax == "glob" else "pv:na.e"
        assert reason_of(
            DeviceAccessPolicy([exact], mode="deny", syntax=syntax), read_ctx("PV:NAME.VAL")
        ) == ("Device PV:NAME is denied")
        assert (
            reason_of(
                DeviceAccessPolicy([folded], mode="deny", syntax=syntax), read_ctx("PV:NAME.VAL")
            )
            is None
        )

    @pytest.mark.parametrize(
        ("action", "read_denied", "set_denied"),
        [("all", True, True), ("read", True, False), ("set", False, True)],
    )
    def test_action_filter_in_deny_mode(
        self, action: str, read_denied: bool, set_denied: bool
    ) -> None:
        policy = DeviceAccessPolicy(["Z:ACLTST"], mode="deny", action=action)
        assert (reason_of(policy, read_ctx("Z:ACLTST")) is not None) is read_denied
        assert (reason_of(policy, set_ctx(("Z:ACLTST", 1.0))) is not None) is set_denied

    def test_allow_set_does_not_touch_reads(self) -> None:
        policy = DeviceAccessPolicy(["M:*"], action="set")
        ctx = read_ctx("M:OUTTMP")
        decision = policy.check(ctx)
        assert decision.allowed and decision.ctx is None

    def test_allow_all_applies_to_reads_without_restricting(self) -> None:
        decision = DeviceAccessPolicy(["M:*"]).check(read_ctx("M:OUTTMP", "Z:ACLTST"))
        assert decision.allowed and decision.ctx is None

    @pytest.mark.parametrize("mode", ["allow", "deny"])
    def test_unparsable_drf_denies_in_both_modes(self, mode: str) -> None:
        policy = DeviceAccessPolicy(["Z:*"], mode=mode)
        for ctx in (read_ctx("M:OUTTMP", "M:OUTTMP[a]"), set_ctx(("M:OUTTMP[a]", 1.0))):
            assert reason_of(policy, ctx) == "Malformed or disallowed DRF: 'M:OUTTMP[a]'"

    def test_non_applicable_action_does_not_parse(self) -> None:
        policy = DeviceAccessPolicy(["Z:*"], mode="deny", action="set")
        assert policy.check(read_ctx("M:OUTTMP[a]")).allowed


# --------------------------------------------------------------------------- RateLimitPolicy


class TestPeerKey:
    @pytest.mark.parametrize(
        ("peer", "key"),
        [
            ("ipv4:127.0.0.1:34710", "ipv4:127.0.0.1"),
            ("ipv4:10.0.0.1:1", "ipv4:10.0.0.1"),
            ("ipv4:10.0.0.1", "ipv4:10.0.0.1"),
            ("ipv6:[::1]:5000", "ipv6:[::1]"),
            ("ipv6:[fe80::1%eth0]:443", "ipv6:[fe80::1%eth0]"),
            ("ipv6:%5B::1%5D:5000", "ipv6:%5B::1%5D"),
            ("ipv6:[::1]", "ipv6:[::1]"),
            ("unix:/tmp/sock:5", "unix:/tmp/sock:5"),
            ("unknown", "unknown"),
        ],
    )
    def test_port_is_stripped_for_ip_peers_only(self, peer: str, key: str) -> None:
        assert peer_key(peer) == key


class TestRateLimitPolicy:
    @pytest.mark.parametrize(
        ("max_requests", "window"),
        [(0, 60.0), (-1, 60.0), (True, 60.0), ("5", 60.0), (5, 0), (5, -1.0), (5, float("nan"))],
    )
    def test_invalid_arguments(self, max_requests: Any, window: Any) -> None:
        with pytest.raises(ValueError):
            RateLimitPolicy(max_requests, window)

    def test_window_and_message(self) -> None:
        clock = FakeClock()
        policy = RateLimitPolicy(3, clock=clock)
        assert [policy.check(read_ctx("M:OUTTMP")).allowed for _ in range(3)] == [True] * 3
        assert reason_of(policy, read_ctx("M:OUTTMP")) == "Rate limit exceeded (3 per 60.0s)"
        clock.now += 59.9
        assert not policy.check(read_ctx("M:OUTTMP")).allowed
        clock.now += 0.2
        assert policy.check(read_ctx("M:OUTTMP")).allowed

    def test_message_uses_python_number_formatting(self) -> None:
        policy = RateLimitPolicy(1, 10, clock=FakeClock())
        policy.check(read_ctx("M:OUTTMP"))
        assert reason_of(policy, read_ctx("M:OUTTMP")) == "Rate limit exceeded (1 per 10s)"

    def test_entry_exactly_window_old_has_expired(self) -> None:
        clock = FakeClock(0.0)
        policy = RateLimitPolicy(1, 10.0, clock=clock)
        assert policy.check(read_ctx("M:OUTTMP")).allowed
        clock.now = 10.0
        assert policy.check(read_ctx("M:OUTTMP")).allowed

    def test_sliding_not_fixed_window(self) -> None:
        clock = FakeClock(0.0)
        policy = RateLimitPolicy(2, 10.0, clock=clock)
        assert policy.check(read_ctx("A:B1")).allowed
        clock.now = 6.0
        assert policy.check(read_ctx("A:B1")).allowed
        clock.now = 11.0  # t=0 expired, t=6 still counts
        assert policy.check(read_ctx("A:B1")).allowed
        assert not policy.check(read_ctx("A:B1")).allowed

    def test_denied_requests_are_not_recorded(self) -> None:
        clock = FakeClock(0.0)
        policy = RateLimitPolicy(1, 10.0, clock=clock)
        assert policy.check(read_ctx("M:OUTTMP")).allowed
        clock.now = 5.0
        assert not policy.check(read_ctx("M:OUTTMP")).allowed
        clock.now = 10.5  # a recorded t=5 would still block here
        assert policy.check(read_ctx("M:OUTTMP")).allowed

    def test_reads_and_sets_share_the_budget(self) -> None:
        policy = RateLimitPolicy(2, clock=FakeClock())
        assert policy.check(read_ctx("M:OUTTMP")).allowed
        assert policy.check(set_ctx(("M:OUTTMP", 1.0))).allowed
        assert not policy.check(read_ctx("M:OUTTMP")).allowed
        assert not policy.check(set_ctx(("M:OUTTMP", 1.0))).allowed

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ("ipv4:10.0.0.7:1000", "ipv4:10.0.0.7:2000"),
            ("ipv6:[::1]:1000", "ipv6:[::1]:2000"),
            ("ipv6:[2001:db8::5]:1", "ipv6:[2001:db8::5]:65535"),
        ],
    )
    def test_new_connection_from_same_address_shares_budget(self, first: str, second: str) -> None:
        policy = RateLimitPolicy(1, clock=FakeClock())
        assert policy.check(read_ctx("M:OUTTMP", peer=first)).allowed
        assert not policy.check(read_ctx("M:OUTTMP", peer=second)).allowed

    def test_different_addresses_are_independent(self) -> None:
        policy = RateLimitPolicy(1, clock=FakeClock())
        for peer in ("ipv4:10.0.0.1:5", "ipv4:10.0.0.2:5", "ipv6:[::1]:5", "unix:/a", "unix:/b"):
            assert policy.check(read_ctx("M:OUTTMP", peer=peer)).allowed
            assert not policy.check(read_ctx("M:OUTTMP", peer=peer)).allowed

    def test_idle_peers_are_pruned_above_threshold(self) -> None:
        clock = FakeClock(0.0)
        policy = RateLimitPolicy(5, 60.0, clock=clock)
        for index in range(PRUNE_THRESHOLD):
            policy.check(read_ctx("M:OUTTMP", peer=f"ipv4:10.0.{index // 256}.{index % 256}:1"))
        assert policy.tracked_peers == PRUNE_THRESHOLD
        clock.now = 30.0
        policy.check(read_ctx("M:OUTTMP", peer="ipv4:192.168.0.1:1"))
        assert policy.tracked_peers == PRUNE_THRESHOLD + 1  # not more than 100 before this one
        clock.now = 61.0  # the first 100 are idle, 192.168.0.1 is still active
        policy.check(read_ctx("M:OUTTMP", peer="ipv4:192.168.0.2:1"))
        assert policy.tracked_peers == 2

    def test_pruning_keeps_active_budgets(self) -> None:
        clock = FakeClock(0.0)
        policy = RateLimitPolicy(1, 60.0, clock=clock)
        active = "ipv4:172.16.0.1:9"
        policy.check(read_ctx("M:OUTTMP", peer=active))
        for index in range(PRUNE_THRESHOLD + 5):
            policy.check(read_ctx("M:OUTTMP", peer=f"ipv4:10.1.{index // 256}.{index % 256}:1"))
        assert not policy.check(read_ctx("M:OUTTMP", peer=active)).allowed

    def test_thread_safety_exact_count_one_peer(self) -> None:
        policy = RateLimitPolicy(50, clock=FakeClock())
        threads, per_thread = 8, 40
        barrier = threading.Barrier(threads)
        results: list[bool] = []
        lock = threading.Lock()

        def worker(index: int) -> None:
            barrier.wait()
            local = [
                policy.check(read_ctx("M:OUTTMP", peer=f"ipv4:10.9.9.9:{index}")).allowed
                for _ in range(per_thread)
            ]
            with lock:
                results.extend(local)

        pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        assert len(results) == threads * per_thread
        assert sum(results) == 50

    def test_thread_safety_exact_count_many_peers(self) -> None:
        policy = RateLimitPolicy(7, clock=FakeClock())
        threads = 6
        barrier = threading.Barrier(threads)
        allowed: dict[int, int] = {}

        def worker(index: int) -> None:
            barrier.wait()
            ctx = read_ctx("M:OUTTMP", peer=f"ipv6:[fd00::{index}]:{index}")
            allowed[index] = sum(policy.check(ctx).allowed for _ in range(30))

        pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        assert allowed == dict.fromkeys(range(threads), 7)


# --------------------------------------------------------------------------- ValueRangePolicy


class TestValueRangeConstruction:
    @pytest.mark.parametrize(
        "limits",
        [
            {},
            [("Z:*", (0, 1))],
            {"": (0, 1)},
            {"Z:*": (0,)},
            {"Z:*": (0, 1, 2)},
            {"Z:*": "01"},
            {"Z:*": ("0", 1)},
            {"Z:*": (0, float("nan"))},
            {"Z:*": (True, 5)},
            {"Z:*": (5, 1)},
        ],
    )
    def test_invalid_limits(self, limits: Any) -> None:
        with pytest.raises(ValueError):
            ValueRangePolicy(limits)

    @pytest.mark.parametrize("allow_raw", ["Z:*", [], [""], [None]])
    def test_invalid_allow_raw(self, allow_raw: Any) -> None:
        with pytest.raises(ValueError):
            ValueRangePolicy({"Z:*": (0, 1)}, allow_raw=allow_raw)

    def test_infinite_bounds_allowed(self) -> None:
        policy = ValueRangePolicy({"Z:*": (float("-inf"), 10)})
        assert reason_of(policy, set_ctx(("Z:ACLTST", -1e300))) is None
        assert reason_of(policy, set_ctx(("Z:ACLTST", 11))) == (
            "Value 11 for Z:ACLTST outside range [-inf, 10]"
        )


class TestValueRangePolicy:
    LIMITS = {"Z:*": (0, 100), "Z:ACL*": (10, 50)}

    def test_reads_pass(self) -> None:
        decision = ValueRangePolicy(self.LIMITS).check(read_ctx("Z:ACLTST"))
        assert decision.allowed and decision.ctx is None

    def test_bounds_are_inclusive(self) -> None:
        policy = ValueRangePolicy({"Z:ACLTST": (0, 10)})
        for value in (0, 10, 0.0, 10.0, 5):
            assert reason_of(policy, set_ctx(("Z:ACLTST", value))) is None

    def test_out_of_range_message(self) -> None:
        policy = ValueRangePolicy({"Z:ACLTST": (0, 10)})
        assert reason_of(policy, set_ctx(("Z:ACLTST", 10.5))) == (
            "Value 10.5 for Z:ACLTST outside range [0, 10]"
        )
        assert reason_of(policy, set_ctx(("Z:ACLTST", -1))) == (
            "Value -1 for Z:ACLTST outside range [0, 10]"
        )

    def test_intersection_of_all_matching_patterns(self) -> None:
        policy = ValueRangePolicy(self.LIMITS)
        assert reason_of(policy, set_ctx(("Z:ACLTST", 30.0))) is None
        assert reason_of(policy, set_ctx(("Z:ACLTST", 60.0))) == (
            "Value 60.0 for Z:ACLTST outside range [10, 50]"
        )
        assert reason_of(policy, set_ctx(("Z:ACLTST", 5.0))) == (
            "Value 5.0 for Z:ACLTST outside range [10, 50]"
        )
        assert reason_of(policy, set_ctx(("Z:OTHER", 60.0))) is None

    def test_intersection_is_order_independent(self) -> None:
        reverse = dict(reversed(list(self.LIMITS.items())))
        assert reason_of(ValueRangePolicy(reverse), set_ctx(("Z:ACLTST", 60.0))) == (
            "Value 60.0 for Z:ACLTST outside range [10, 50]"
        )

    def test_contradictory_ranges(self) -> None:
        policy = ValueRangePolicy({"Z:*": (0, 5), "Z:ACL*": (10, 20)})
        assert reason_of(policy, set_ctx(("Z:ACLTST", 3.0))) == (
            "Contradictory value ranges for Z:ACLTST: empty intersection [10, 5]"
        )

    def test_unmatched_devices_are_skipped(self) -> None:
        policy = ValueRangePolicy(self.LIMITS)
        for value in ("text", b"\x00", {"a": 1}, float("nan"), 1e9):
            assert reason_of(policy, set_ctx(("M:OUTTMP", value))) is None

    @pytest.mark.parametrize("drf", ["Z|ACLTST", "Z&ACLTST", "Z:ACLTST.CONTROL", "Z:ACLTST.STATUS"])
    def test_control_writes_are_skipped(self, drf: str) -> None:
        policy = ValueRangePolicy(self.LIMITS)
        assert reason_of(policy, set_ctx((drf, BasicControl.ON))) is None
        assert reason_of(policy, set_ctx((drf, 9999))) is None

    @pytest.mark.parametrize(
        ("drf", "field"),
        [
            ("Z:ACLTST.RAW", "RAW"),
            ("Z:ACLTST.SETTING.RAW", "RAW"),
            ("z_acltst.raw", "RAW"),
            ("Z:ACLTST.PRIMARY", "PRIMARY"),
            ("Z:ACLTST.VOLTS", "PRIMARY"),
            ("Z@ACLTST.RAW_MAX", "RAW_MAX"),
            ("Z:ACLTST.ANALOG.RAWMIN", "RAW_MIN"),
            ("Z@ACLTST.RAW_NOM", "RAW_NOM"),
            ("Z@ACLTST.RAW_TOL", "RAW_TOL"),
        ],
    )
    def test_unscaled_fields_denied(self, drf: str, field: str) -> None:
        policy = ValueRangePolicy(self.LIMITS)
        for value in (30.0, b"\x01\x02"):
            assert reason_of(policy, set_ctx((drf, value))) == (
                f"{field} field write to range-limited device Z:ACLTST"
                " is not comparable to its engineering-unit limit"
            )

    @pytest.mark.parametrize("value", [b"\x00\x01", bytearray(b"\x10"), memoryview(b"\x02")])
    def test_bytes_denied(self, value: Any) -> None:
        assert reason_of(ValueRangePolicy(self.LIMITS), set_ctx(("Z:ACLTST", value))) == (
            "Raw byte write to range-limited device Z:ACLTST requires an allow_raw exemption"
        )

    def test_allow_raw_exempts_raw_and_bytes_only_for_matching_devices(self) -> None:
        policy = ValueRangePolicy(self.LIMITS, allow_raw=["z:acl*"])
        assert reason_of(policy, set_ctx(("Z:ACLTST.RAW", b"\xff\xff"))) is None
        assert reason_of(policy, set_ctx(("Z:ACLTST", b"\xff\xff"))) is None
        assert reason_of(policy, set_ctx(("Z:ACLTST.PRIMARY", 1e6))) is None
        assert reason_of(policy, set_ctx(("Z:ACLTST", 1e6))) is not None  # scaled still limited
        assert reason_of(policy, set_ctx(("Z:OTHER.RAW", b"\x00"))) == (
            "RAW field write to range-limited device Z:OTHER"
            " is not comparable to its engineering-unit limit"
        )

    @pytest.mark.parametrize(
        "value",
        [
            "5",
            {"on": True},
            None,
            1j,
            BasicControl.ON,
            [1, "a"],
            [1, [2, None]],
            np.array(["1"]),
            np.complex128(1),
            np.array([1 + 2j]),
            np.str_("3"),
            object(),
        ],
    )
    def test_non_numeric_denied(self, value: Any) -> None:
        assert reason_of(ValueRangePolicy(self.LIMITS), set_ctx(("Z:ACLTST", value))) == (
            f"Non-numeric value {value!r} for range-limited device Z:ACLTST"
        )

    @pytest.mark.parametrize(
        ("value", "shown"),
        [
            (float("nan"), "nan"),
            (float("inf"), "inf"),
            (float("-inf"), "-inf"),
            (np.float64("nan"), "nan"),
            ([20.0, float("nan")], "nan"),
            (np.array([20.0, np.inf]), "inf"),
        ],
    )
    def test_nan_and_inf_denied(self, value: Any, shown: str) -> None:
        policy = ValueRangePolicy({"Z:ACLTST": (float("-inf"), float("inf"))})
        assert reason_of(policy, set_ctx(("Z:ACLTST", value))) == (
            f"Value {shown} for Z:ACLTST outside range [-inf, inf]"
        )

    @pytest.mark.parametrize(
        ("value", "failing"),
        [
            ([10, 20, 30], None),
            ((10, 50), None),
            ([[10, 20], [30, 40]], None),
            (np.array([10.0, 25.5, 50.0]), None),
            (np.array([[10, 11], [12, 13]], dtype=np.int16), None),
            (np.array([10, 20.0], dtype=object), None),
            ([], None),
            (np.float32(20.5), None),
            (np.int64(20), None),
            ([10, 60], "60"),
            ([[10, 20], [30, 51]], "51"),
            (np.array([10.0, 25.5, 50.5]), "50.5"),
            (np.uint64(2**64 - 1), str(2**64 - 1)),
            (np.int8(-3), "-3"),
            (10**30, str(10**30)),
            (True, "True"),
        ],
    )
    def test_numbers_and_arrays(self, value: Any, failing: str | None) -> None:
        reason = reason_of(ValueRangePolicy(self.LIMITS), set_ctx(("Z:ACLTST", value)))
        if failing is None:
            assert reason is None
        else:
            assert reason == f"Value {failing} for Z:ACLTST outside range [10, 50]"

    def test_epics_names_case_sensitive(self) -> None:
        policy = ValueRangePolicy({"PV:NAME": (0, 1)})
        assert reason_of(policy, set_ctx(("PV:NAME.VAL", 5.0))) == (
            "Value 5.0 for PV:NAME outside range [0, 1]"
        )
        assert reason_of(policy, set_ctx(("pv:name.VAL", 5.0))) is None

    def test_allowed_request_is_unchanged(self) -> None:
        decision = ValueRangePolicy(self.LIMITS).check(set_ctx(("Z:ACLTST", 20.0)))
        assert decision.allowed and decision.ctx is None

    def test_flatten_numbers(self) -> None:
        assert flatten_numbers([1, (2.5, np.int32(3)), np.array([[4], [5]])]) == [1, 2.5, 3, 4, 5]
        assert flatten_numbers([1, "2"]) is None
        assert flatten_numbers(BasicControl.RESET) is None


# --------------------------------------------------------------------------- SlewRatePolicy


class TestSlewLimit:
    @pytest.mark.parametrize(
        "kwargs",
        [
            {},
            {"max_step": None, "max_rate": None},
            {"max_step": -1.0},
            {"max_rate": float("nan")},
            {"max_step": "1"},
            {"max_step": True},
        ],
    )
    def test_invalid(self, kwargs: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            SlewLimit(**kwargs)

    def test_valid_and_frozen(self) -> None:
        limit = SlewLimit(max_step=1.0)
        assert (limit.max_step, limit.max_rate) == (1.0, None)
        assert SlewLimit(max_rate=2).max_rate == 2
        with pytest.raises(dataclasses.FrozenInstanceError):
            limit.max_step = 5.0  # type: ignore[misc]

    @pytest.mark.parametrize("limits", [{}, {"Z:*": (1, 2)}, {"": SlewLimit(max_step=1)}, "Z:*"])
    def test_policy_rejects_bad_limits(self, limits: Any) -> None:
        with pytest.raises(ValueError):
            SlewRatePolicy(limits)


class TestSlewRatePolicy:
    def make(self, clock: FakeClock, **limit: float) -> SlewRatePolicy:
        return SlewRatePolicy({"Z:ACL*": SlewLimit(**limit)}, clock=clock)

    def test_first_write_always_allowed(self) -> None:
        policy = self.make(FakeClock(), max_step=1.0, max_rate=1.0)
        assert reason_of(policy, set_ctx(("Z:ACLTST", 1e6))) is None

    def test_step_limit(self) -> None:
        clock = FakeClock()
        policy = self.make(clock, max_step=2.0)
        assert reason_of(policy, set_ctx(("Z:ACLTST", 10.0))) is None
        clock.now += 100
        assert reason_of(policy, set_ctx(("Z:ACLTST", 12.0))) is None
        clock.now += 100
        assert reason_of(policy, set_ctx(("Z:ACLTST", 17.0))) == (
            "Step 5 for Z:ACLTST exceeds limit 2.0"
        )
        assert reason_of(policy, set_ctx(("Z:ACLTST", 9.5))) == (
            "Step 2.5 for Z:ACLTST exceeds limit 2.0"
        )

    def test_step_uses_4g_and_absolute_value(self) -> None:
        clock = FakeClock()
        policy = self.make(clock, max_step=1.0)
        policy.check(set_ctx(("Z:ACLTST", 0.0)))
        assert reason_of(policy, set_ctx(("Z:ACLTST", -123456.0))) == (
            "Step 1.235e+05 for Z:ACLTST exceeds limit 1.0"
        )

    def test_denial_does_not_update_history(self) -> None:
        clock = FakeClock()
        policy = self.make(clock, max_step=2.0)
        policy.check(set_ctx(("Z:ACLTST", 10.0)))
        assert reason_of(policy, set_ctx(("Z:ACLTST", 20.0))) is not None
        assert reason_of(policy, set_ctx(("Z:ACLTST", 11.5))) is None  # still relative to 10

    def test_rate_limit(self) -> None:
        clock = FakeClock(0.0)
        policy = self.make(clock, max_rate=1.0)
        assert reason_of(policy, set_ctx(("Z:ACLTST", 0.0))) is None
        clock.now = 2.0
        assert reason_of(policy, set_ctx(("Z:ACLTST", 1.5))) is None  # 0.75/s
        clock.now = 3.0
        assert reason_of(policy, set_ctx(("Z:ACLTST", 3.0))) == (
            "Slew rate 1.5/s for Z:ACLTST exceeds limit 1.0/s"
        )
        clock.now = 4.5
        assert reason_of(policy, set_ctx(("Z:ACLTST", 3.0))) is None  # 1.5 over 2.5 s

    def test_rate_with_zero_interval_uses_one_nanosecond(self) -> None:
        clock = FakeClock(5.0)
        policy = self.make(clock, max_rate=10.0)
        policy.check(set_ctx(("Z:ACLTST", 0.0)))
        assert reason_of(policy, set_ctx(("Z:ACLTST", 1.0))) == (
            "Slew rate 1000000000.0/s for Z:ACLTST exceeds limit 10.0/s"
        )
        assert reason_of(policy, set_ctx(("Z:ACLTST", 0.0))) is None  # no change, rate 0

    def test_step_checked_before_rate(self) -> None:
        clock = FakeClock(0.0)
        policy = self.make(clock, max_step=1.0, max_rate=1.0)
        policy.check(set_ctx(("Z:ACLTST", 0.0)))
        clock.now = 1.0
        assert reason_of(policy, set_ctx(("Z:ACLTST", 5.0))) == (
            "Step 5 for Z:ACLTST exceeds limit 1.0"
        )

    def test_first_matching_glob_case_insensitive_selects_limit(self) -> None:
        clock = FakeClock()
        policy = SlewRatePolicy(
            {"z:acl*": SlewLimit(max_step=1.0), "Z:*": SlewLimit(max_step=100.0)}, clock=clock
        )
        policy.check(set_ctx(("Z:ACLTST", 0.0), ("Z:OTHER", 0.0)))
        clock.now += 10
        assert reason_of(policy, set_ctx(("Z:OTHER", 50.0))) is None
        assert reason_of(policy, set_ctx(("Z:ACLTST", 50.0))) == (
            "Step 50 for Z:ACLTST exceeds limit 1.0"
        )

    def test_reads_and_unmatched_devices_ignored(self) -> None:
        clock = FakeClock()
        policy = self.make(clock, max_step=1.0)
        assert policy.check(read_ctx("Z:ACLTST")).allowed
        policy.check(set_ctx(("M:OUTTMP", 0.0)))
        assert reason_of(policy, set_ctx(("M:OUTTMP", 1e9))) is None

    def test_history_is_only_recorded_when_whole_request_passes(self) -> None:
        clock = FakeClock()
        policy = SlewRatePolicy({"Z:*": SlewLimit(max_step=1.0)}, clock=clock)
        policy.check(set_ctx(("Z:ACLTST", 0.0), ("Z:OTHER", 0.0)))
        assert reason_of(policy, set_ctx(("Z:ACLTST", 1.0), ("Z:OTHER", 50.0))) is not None
        assert reason_of(policy, set_ctx(("Z:ACLTST", 2.0))) == (
            "Step 2 for Z:ACLTST exceeds limit 1.0"
        )

    def test_slots_for_one_device_are_checked_against_each_other(self) -> None:
        policy = SlewRatePolicy({"Z:*": SlewLimit(max_step=5.0)}, clock=FakeClock())
        assert reason_of(policy, set_ctx(("Z:ACLTST", 0.0), ("z_acltst", 100.0))) == (
            "Step 100 for Z:ACLTST exceeds limit 5.0"
        )
        policy.check(set_ctx(("Z:OTHER", 0.0)))
        assert reason_of(policy, set_ctx(("Z:OTHER", 4.0), ("Z:OTHER", 8.0))) == (
            "Step 8 for Z:OTHER exceeds limit 5.0"
        )

    @pytest.mark.parametrize(
        "value",
        [float("nan"), float("inf"), [100.0], np.array([100.0]), "100", None, BasicControl.ON],
    )
    def test_values_that_are_not_finite_numbers_denied(self, value: Any) -> None:
        policy = self.make(FakeClock(), max_step=1.0)
        assert reason_of(policy, set_ctx(("Z:ACLTST", value))) == (
            f"Value {value!r} for slew-limited device Z:ACLTST is not a finite number"
        )

    def test_numpy_scalars_are_limited(self) -> None:
        clock = FakeClock()
        policy = self.make(clock, max_step=1.0)
        policy.check(set_ctx(("Z:ACLTST", np.float32(0.0))))
        assert reason_of(policy, set_ctx(("Z:ACLTST", np.int64(7)))) == (
            "Step 7 for Z:ACLTST exceeds limit 1.0"
        )

    def test_control_writes_not_limited(self) -> None:
        policy = self.make(FakeClock(), max_step=1.0)
        policy.check(set_ctx(("Z:ACLTST", 0.0)))
        assert reason_of(policy, set_ctx(("Z|ACLTST", BasicControl.RESET))) is None
        assert reason_of(policy, set_ctx(("Z:ACLTST.CONTROL", 9))) is None

    def test_thread_safety_check_and_record_are_atomic(self) -> None:
        # From 0 with max_step 1, +1 and -1 are each fine alone but 2 apart: once one sign
        # is recorded the other must be refused, so only one sign may ever be accepted.
        policy = SlewRatePolicy({"Z:*": SlewLimit(max_step=1.0)}, clock=FakeClock())
        policy.check(set_ctx(("Z:ACLTST", 0.0)))
        threads = 8
        barrier = threading.Barrier(threads)
        accepted: list[float] = []
        lock = threading.Lock()

        def worker(sign: float) -> None:
            barrier.wait()
            mine = [sign for _ in range(50) if policy.check(set_ctx(("Z:ACLTST", sign))).allowed]
            with lock:
                accepted.extend(mine)

        pool = [threading.Thread(target=worker, args=((-1.0) ** i,)) for i in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        assert len(set(accepted)) == 1
        assert len(accepted) == 200  # every write of the winning sign passes


# --------------------------------------------------------------------------- gate and authorize


class TestGate:
    @pytest.mark.parametrize(
        "drf",
        [
            "M:OUTTMP",
            "m_outtmp.setting[0:3].raw@p,1000",
            "PV:NAME.VAL",
            "M:OUTTMP<-LOGGER:1:2",
            "AC1:BPM{X}:POS",
            "XF:23ID-BI{Cam:1}",
        ],
    )
    def test_acceptable(self, drf: str) -> None:
        assert acceptable_drf(drf)
        assert acceptable_drf(drf, for_write=True)

    @pytest.mark.parametrize(
        "drf",
        [
            "",
            " M:OUTTMP",
            "M:OUTTMP ",
            "M:OUTTMP\n",
            "M:OUTTMP\t",
            "M:OUT\x00TMP",
            "M:OUTTMP\u00e9",
            "\uff2d:OUTTMP",
            "#LOG:1",
            "#M:OUTTMP",
            "0:12345",
            "0_12345.SETTING",
            "M:OUTTMP[a]",
            "M:OUTTMP.",
            "M:OUTTMP.UNITS.RAW",
            "M:OUTTMP<-FTP<-FTP",
            "M:OUTTMP<-NOPE",
            "AB",
            # ACNET names in disguise: no policy could match them, so the gate fails closed.
            "M:OUT TMP",
            "Z::ACLTST",
            "Z:ACLTST:",
            "z::acltst.SETTING@N",
            "Z;ACLTST",
            "Z:ACLTST:VAL",
            None,
            42,
        ],
    )
    def test_rejected(self, drf: Any) -> None:
        assert not acceptable_drf(drf)


class TestAuthorize:
    def test_read_with_no_policies_is_allowed(self) -> None:
        decision = authorize([], read_ctx("M:OUTTMP"))
        assert decision.allowed

    def test_write_with_no_policies_is_denied(self) -> None:
        decision = authorize([], set_ctx(("M:OUTTMP", 1.0)))
        assert decision.reason == "No policy explicitly allows write operations"

    def test_write_without_gating_policy(self) -> None:
        decision = authorize([RateLimitPolicy(10)], set_ctx(("M:OUTTMP", 1.0)))
        assert decision.reason == "No policy explicitly allows write operations"

    def test_write_slots_not_approved_named_in_slot_order(self) -> None:
        ctx = set_ctx(("z_acltst", 1.0), ("M:OUTTMP", 2.0), ("g:amanda", 3.0))
        decision = authorize([DeviceAccessPolicy(["M:*"])], ctx)
        assert decision.reason == "No write policy approves: Z:ACLTST, G:AMANDA"

    def test_fully_approved_write_carries_final_values(self) -> None:
        ctx = set_ctx(("Z:ACLTST", 1.0), ("M:OUTTMP", 2.0))
        decision = authorize(
            [DeviceAccessPolicy(["Z:*", "M:*"]), ValueRangePolicy({"Z:*": (0, 5)})], ctx
        )
        assert decision.allowed and decision.ctx is not None
        assert decision.ctx.values == [("Z:ACLTST", 1.0), ("M:OUTTMP", 2.0)]
        assert decision.ctx.allowed == {0, 1}

    def test_read_slots_removed_by_policy(self) -> None:
        narrow = Recorder(lambda c: dataclasses.replace(c, allowed=frozenset({1})))
        decision = authorize([narrow], read_ctx("z:acltst", "M:OUTTMP", "G:AMANDA"))
        assert decision.reason == "Read denied by policy: Z:ACLTST, G:AMANDA"

    def test_gate_runs_before_policies(self) -> None:
        recorder = Recorder()
        decision = authorize([recorder], read_ctx("M:OUTTMP", "#LOG:1"))
        assert decision.reason == "Malformed or disallowed DRF: '#LOG:1'"
        assert recorder.seen == []

    def test_policy_denial_reason_passes_through(self) -> None:
        decision = authorize([ReadOnlyPolicy()], set_ctx(("M:OUTTMP", 1.0)))
        assert decision.reason == "Write operations disabled"


# --------------------------------------------------------------------------- no bypass

Z_ALIASES = [
    "z_acltst",
    "Z_ACLTST",
    "Z:ACLTST",
    "z:acltst",
    "Z:ACLTST.SETTING",
    "z?acltst.set",
    "Z?ACLTST",
    "Z:ACLTST[0:3]",
    "Z:ACLTST[]",
    "Z:ACLTST{0:2}",
    "Z:ACLTST.SETTING.RAW",
    "Z:ACLTST.READING",
    "z:acltst.prread",
    "Z|ACLTST",
    "Z&ACLTST",
    "Z:ACLTST.STATUS.ON",
    "Z@ACLTST.MAX",
    "z$acltst.mask",
    "Z~ACLTST",
    "Z:ACLTST@p,1000",
    "Z:ACLTST@I",
    "Z:ACLTST<-FTP",
    "Z_ACLTST[0:3].RAW@N",
]

MALFORMED = [
    "Z:ACLTST[a]",
    "Z:ACLTST.",
    "Z:ACLTST.SETTING.BOGUS",
    " Z:ACLTST",
    "Z:ACLTST ",
    "Z:ACLTST\n",
    "\tZ:ACLTST",
    "Z:ACLTST\x00",
    "Z:ACLTST<-FTP<-FTP",
    "#Z:ACLTST",
    "0:12345",
    "",
]


class TestNoBypass:
    @pytest.mark.parametrize("drf", Z_ALIASES)
    @pytest.mark.parametrize("rpc", ["Read", "Set"])
    def test_deny_catches_every_spelling(self, drf: str, rpc: str) -> None:
        policy = DeviceAccessPolicy(["Z:ACLTST"], mode="deny")
        ctx = read_ctx(drf) if rpc == "Read" else set_ctx((drf, 1.0))
        assert reason_of(policy, ctx) == "Device Z:ACLTST is denied"

    @pytest.mark.parametrize("drf", Z_ALIASES)
    def test_allow_list_does_not_approve_other_devices_by_spelling(self, drf: str) -> None:
        decision = authorize([DeviceAccessPolicy(["M:*", "Z:ACLTS"])], set_ctx((drf, 1.0)))
        assert decision.reason == "No write policy approves: Z:ACLTST"

    @pytest.mark.parametrize("drf", Z_ALIASES)
    def test_allow_list_approves_every_spelling(self, drf: str) -> None:
        decision = authorize([DeviceAccessPolicy(["z:acltst"])], set_ctx((drf, 1.0)))
        assert decision.allowed

    @pytest.mark.parametrize("drf", MALFORMED)
    @pytest.mark.parametrize("mode", ["allow", "deny"])
    def test_malformed_drfs_deny(self, drf: str, mode: str) -> None:
        policy = DeviceAccessPolicy(["Z:*"], mode=mode)
        expected = f"Malformed or disallowed DRF: {drf!r}"
        assert reason_of(policy, read_ctx("M:OUTTMP", drf)) == expected
        assert reason_of(policy, set_ctx(("M:OUTTMP", 1.0), (drf, 1.0))) == expected
        assert authorize([], read_ctx(drf)).reason == expected

    @pytest.mark.parametrize("drf", MALFORMED)
    def test_malformed_drfs_deny_in_value_policies(self, drf: str) -> None:
        expected = f"Malformed or disallowed DRF: {drf!r}"
        assert reason_of(ValueRangePolicy({"Q:*": (0, 1)}), set_ctx((drf, 0.5))) == expected
        slew = SlewRatePolicy({"Q:*": SlewLimit(max_step=1)}, clock=FakeClock())
        assert reason_of(slew, set_ctx((drf, 0.5))) == expected

    @pytest.mark.parametrize(
        "drf",
        ["z_acltst", "Z:ACLTST.SETTING", "z?acltst.set", "Z:ACLTST[0:3]", "Z:ACLTST@p,1000"],
    )
    def test_value_range_catches_every_spelling(self, drf: str) -> None:
        policy = ValueRangePolicy({"Z:ACLTST": (0, 10)})
        assert reason_of(policy, set_ctx((drf, 11.0))) == (
            "Value 11.0 for Z:ACLTST outside range [0, 10]"
        )

    @pytest.mark.parametrize("drf", ["z_acltst", "Z:ACLTST.SETTING", "z?acltst.set"])
    def test_slew_history_shared_across_spellings(self, drf: str) -> None:
        clock = FakeClock()
        policy = SlewRatePolicy({"Z:ACLTST": SlewLimit(max_step=1.0)}, clock=clock)
        policy.check(set_ctx(("Z:ACLTST", 0.0)))
        clock.now += 60
        assert reason_of(policy, set_ctx((drf, 10.0))) == "Step 10 for Z:ACLTST exceeds limit 1.0"

    def test_mixed_batch_with_one_denied_device_denies_all(self) -> None:
        policies = [DeviceAccessPolicy(["*"]), DeviceAccessPolicy(["Z:*"], mode="deny")]
        ctx = set_ctx(("M:OUTTMP", 1.0), ("G:AMANDA", 2.0), ("z?acltst.set[0:3]", 3.0))
        decision = authorize(policies, ctx)
        assert not decision.allowed
        assert decision.reason == "Device Z:ACLTST is denied"

    def test_mixed_batch_with_one_unapproved_device_denies_all(self) -> None:
        ctx = set_ctx(("M:OUTTMP", 1.0), ("Z_ACLTST.RAW", b"\x00"), ("M:INTTMP", 2.0))
        decision = authorize([DeviceAccessPolicy(["M:*"])], ctx)
        assert not decision.allowed
        assert decision.reason == "No write policy approves: Z:ACLTST"

    def test_mixed_batch_with_one_out_of_range_value_denies_all(self) -> None:
        policies = [DeviceAccessPolicy(["*"]), ValueRangePolicy({"Z:*": (0, 10)})]
        ctx = set_ctx(("M:OUTTMP", 1e6), ("Z:ACLTST", 5.0), ("z_acltst[1]", 50.0))
        assert authorize(policies, ctx).reason == "Value 50.0 for Z:ACLTST outside range [0, 10]"

    def test_mixed_batch_with_one_malformed_drf_denies_all(self) -> None:
        ctx = set_ctx(("M:OUTTMP", 1.0), ("M:OUTTMP[a]", 2.0))
        decision = authorize([DeviceAccessPolicy(["*"])], ctx)
        assert decision.reason == "Malformed or disallowed DRF: 'M:OUTTMP[a]'"

    def test_deny_cannot_be_undone_by_later_allow(self) -> None:
        policies = [DeviceAccessPolicy(["Z:*"], mode="deny"), DeviceAccessPolicy(["*"])]
        assert authorize(policies, set_ctx(("z_acltst", 1.0))).reason == (
            "Device Z:ACLTST is denied"
        )

    def test_policy_cannot_redirect_a_write(self) -> None:
        swap = Recorder(
            lambda c: dataclasses.replace(c, drfs=["M:OUTTMP"], values=[("M:OUTTMP", 1.0)])
        )
        with pytest.raises(ValueError):
            authorize([swap, DeviceAccessPolicy(["M:*"])], set_ctx(("Z:ACLTST", 1.0)))

    @settings(max_examples=150, deadline=None)
    @given(
        flips=st.lists(st.booleans(), min_size=7, max_size=7),
        qualifier=st.sampled_from(list(":?_|&@$~")),
        suffix=st.sampled_from(
            ["", ".SETTING", ".set", "[0:3]", "[2]", "{0:4}", "@p,1000", "@I", "<-FTP", ".RAW"]
        ),
        rpc=st.sampled_from(["Read", "Set"]),
    )
    def test_generated_spellings_are_denied(
        self, flips: list[bool], qualifier: str, suffix: str, rpc: str
    ) -> None:
        letters = [c.lower() if flip else c for c, flip in zip("ZACLTST", flips, strict=True)]
        drf = f"{letters[0]}{qualifier}{''.join(letters[1:])}{suffix}"
        policy = DeviceAccessPolicy(["Z:ACLTST"], mode="deny")
        ctx = read_ctx(drf) if rpc == "Read" else set_ctx((drf, 1.0))
        if acceptable_drf(drf, for_write=rpc == "Set"):
            assert reason_of(policy, ctx) == "Device Z:ACLTST is denied"
        else:  # e.g. a field not allowed for the qualifier's property: denied all the same
            assert reason_of(policy, ctx) == f"Malformed or disallowed DRF: {drf!r}"


# --------------------------------------------------------------------------- plugin specs


class TestBuiltinSpecs:
    def test_names_and_factories(self) -> None:
        expected = {
            "read_only": ReadOnlyPolicy,
            "device_access": DeviceAccessPolicy,
            "rate_limit": RateLimitPolicy,
            "value_range": ValueRangePolicy,
            "slew_rate": SlewRatePolicy,
        }
        assert [spec.name for spec in BUILTIN_POLICY_SPECS] == list(expected)
        for spec in BUILTIN_POLICY_SPECS:
            assert isinstance(spec, PolicySpec)
            assert spec.factory == f"pacsys.policies:{expected[spec.name].__name__}"
            assert spec.load() is expected[spec.name]
            assert spec.description and "\n" not in spec.description

    def test_factories_build_policies(self) -> None:
        by_name = {spec.name: spec.load() for spec in BUILTIN_POLICY_SPECS}
        built = [
            by_name["read_only"](),
            by_name["device_access"](patterns=["M:*"]),
            by_name["rate_limit"](max_requests=5),
            by_name["value_range"](limits={"M:*": (0, 1)}),
            by_name["slew_rate"](limits={"M:*": SlewLimit(max_step=1)}),
        ]
        assert all(isinstance(policy, Policy) for policy in built)
