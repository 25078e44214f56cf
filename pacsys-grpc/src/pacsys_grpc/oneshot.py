"""Collecting the replies of one one-shot gRPC ``Read`` into a result per slot.

docs/protocols/grpc.md §5.3: a slot's first reading settles it; a chunked historical read
gathers its chunks until the empty one that ends it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from pacsys.backends import fill_missing
from pacsys.drf_utils import is_chunked_historical_drf
from pacsys.types import Reading
from pacsys_grpc import wire as mapping
from pacsys_grpc._proto.services import daq_pb2

__all__ = ["OneShotCollector"]

# A pure function of the DRF string; one-shot reads repeat the same few DRFs.
_chunked_history = functools.lru_cache(maxsize=4096)(is_chunked_historical_drf)


class OneShotCollector:
    """One-shot Read replies -> one result per slot (docs/protocols/grpc.md §5.3)."""

    def __init__(self, drfs: Sequence[str], prepared: Sequence[str]) -> None:
        self._drfs = list(drfs)
        self._results: list[Reading | None] = [None] * len(drfs)
        self._chunked = [_chunked_history(drf) for drf in prepared]
        self._chunks: list[list[daq_pb2.Reading]] = [[] for _ in drfs]
        self._pending = len(drfs)

    @property
    def done(self) -> bool:
        return self._pending == 0

    def _settle(self, index: int, reading: Reading) -> None:
        self._results[index] = reading
        self._pending -= 1

    def add(self, reply: daq_pb2.ReadingReply) -> bool:
        """Take one reply; True once every slot has its result."""
        index = reply.index
        if index >= len(self._drfs) or self._results[index] is not None:
            return self.done
        drf = self._drfs[index]
        if not self._chunked[index]:
            reading = mapping.reading_from_oneshot_reply(drf, reply)
            if reading is not None:
                self._settle(index, reading)
            return self.done
        kind = reply.WhichOneof("value")
        if kind == "readings" and reply.readings.reading:
            self._chunks[index].extend(reply.readings.reading)
        elif kind == "status" and mapping.normalize_status_code(reply.status.status_code) != 0:
            self._settle(index, mapping.reading_from_status(drf, reply.status))
        elif kind is not None:
            samples, self._chunks[index] = self._chunks[index], []
            self._settle(index, mapping.timed_array_from_samples(drf, samples, allow_arrays=True))
        return self.done

    def missing(self) -> list[str]:
        return [
            drf for drf, result in zip(self._drfs, self._results, strict=True) if result is None
        ]

    def fail(self, make: Callable[[str], Reading]) -> list[Reading]:
        """Every slot's result, filling the unanswered ones with ``make(drf)``."""
        return fill_missing(self._drfs, self._results, make)

    def results(self) -> list[Reading]:
        return [result for result in self._results if result is not None]
