"""The gRPC client's subscription handle: a core buffered handle that counts server losses.

A server that dropped readings for this client (too slow for its stream) says so with a
status reply (1, -7 ACNET_QUEFULL) on each slot (docs/protocols/grpc.md §5.5); each such
notice is counted in ``handle.dropped`` (at least one reading lost) and delivered as the
error Reading it is, so callbacks and ``readings()`` see it too.
"""

from __future__ import annotations

from pacsys.backends.subscription import BufferedSubscriptionHandle
from pacsys.types import Reading
from pacsys_grpc.codec import is_loss_notice

__all__ = ["GRPCSubscriptionHandle"]


class GRPCSubscriptionHandle(BufferedSubscriptionHandle):
    """A BufferedSubscriptionHandle whose ``dropped`` also counts the server's loss notices."""

    def deliver(self, reading: Reading) -> None:
        if is_loss_notice(reading):
            self.count_dropped(1)  # at least one; the reading says so too
        super().deliver(reading)
