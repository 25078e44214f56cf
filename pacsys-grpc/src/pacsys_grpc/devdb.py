"""DevDBClient: device metadata, alarm blocks and alarm texts from the DevDB gRPC service.

Follows docs/protocols/grpc.md §6.2: one channel (TLS by default), ``get_device_info`` with a
TTL + LRU cache keyed by the upper-cased name, uncached alarm queries, no auth metadata.
The result records are the shared :mod:`pacsys.metadata` dataclasses, re-exported here.
"""

from __future__ import annotations

import atexit
import collections
import logging
import threading
import time
import weakref
from collections.abc import Iterable
from typing import Any

import grpc

from pacsys.backends import check_positive
from pacsys.backends.params import (
    check_host,
    check_port,
    check_positive_int,
    env_choice,
    env_int,
    env_str,
)
from pacsys.deadline import checked_timeout
from pacsys.errors import DeviceError
from pacsys.metadata import (
    AlarmBlockInfo,
    AlarmInfo,
    AlarmText,
    ControlCommandDef,
    DeviceInfoResult,
    ExtStatusBitDef,
    PropertyInfo,
    StatusBitDef,
)
from pacsys_grpc._proto.services import devdb_pb2, devdb_pb2_grpc
from pacsys_grpc.codec.devdb import (
    alarm_info_from_proto,
    alarm_text_from_proto,
    device_info_from_proto,
    is_empty_device,
)

__all__ = [
    "DEFAULT_CACHE_TTL",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "AlarmBlockInfo",
    "AlarmInfo",
    "AlarmText",
    "ControlCommandDef",
    "DevDBClient",
    "DeviceInfoResult",
    "ExtStatusBitDef",
    "PropertyInfo",
    "StatusBitDef",
]

log = logging.getLogger("pacsys_grpc.devdb")

DEFAULT_HOST = "ad-services.fnal.gov"
DEFAULT_PORT = 443
DEFAULT_TIMEOUT = 5.0
DEFAULT_CACHE_TTL = 3600.0
MAX_CACHE_ENTRIES = 10_000

_open_clients: weakref.WeakSet[DevDBClient] = weakref.WeakSet()


@atexit.register
def _close_open_clients() -> None:
    for client in list(_open_clients):
        try:
            client.close()
        except Exception:
            log.debug("Error closing %r at exit (ignored)", client, exc_info=True)


def _env_tls() -> bool:
    return env_choice("PACSYS_DEVDB_TLS", {"1": True, "0": False}, True)


def _names(names: Any, what: str) -> list[Any]:
    if isinstance(names, str | bytes):
        raise TypeError(f"{what} must be a list, not a single string: use [{names!r}]")
    return list(names)


class DevDBClient:
    """Synchronous DevDB client; a context manager, closed at interpreter exit if left open.

    ``host``/``port`` default to ``PACSYS_DEVDB_HOST``/``PACSYS_DEVDB_PORT`` (else
    ad-services.fnal.gov:443); ``tls`` defaults to ``PACSYS_DEVDB_TLS`` (else on).
    """

    def __init__(
        self,
        host: str | None = None,
        port: int | None = None,
        timeout: float | None = None,
        cache_ttl: float = DEFAULT_CACHE_TTL,
        *,
        tls: bool | None = None,
        max_cache_entries: int = MAX_CACHE_ENTRIES,
    ) -> None:
        if host is None:
            host = env_str("PACSYS_DEVDB_HOST", DEFAULT_HOST)
        check_host(host)
        if port is None:
            port = env_int("PACSYS_DEVDB_PORT", DEFAULT_PORT)
        check_port(port)
        if tls is None:
            tls = _env_tls()
        if not isinstance(tls, bool):
            raise ValueError(f"tls must be a bool or None, got {tls!r}")
        self._host, self._port, self._tls = host, port, tls
        self._timeout = checked_timeout(timeout, DEFAULT_TIMEOUT)
        self._ttl = check_positive(cache_ttl, "cache_ttl")
        self._max_entries = check_positive_int(max_cache_entries, "max_cache_entries")
        self._cache: collections.OrderedDict[str, tuple[float, DeviceInfoResult]] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()
        target = f"{host}:{port}"
        if tls:
            self._channel = grpc.secure_channel(target, grpc.ssl_channel_credentials())
        else:
            self._channel = grpc.insecure_channel(target)
        self._stub = devdb_pb2_grpc.DevDBStub(self._channel)
        self._closed = False
        _open_clients.add(self)

    @property
    def target(self) -> str:
        return f"{self._host}:{self._port}"

    @property
    def tls(self) -> bool:
        return self._tls

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<DevDBClient {self.target} tls={self._tls} {state}>"

    def __enter__(self) -> DevDBClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("DevDBClient is closed")

    # --- cache ---------------------------------------------------------------------------

    def _cached(self, name: str, now: float) -> DeviceInfoResult | None:
        key = name.upper()
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                return None
            stored, result = entry
            if now - stored > self._ttl:
                del self._cache[key]
                return None
            self._cache.move_to_end(key)
            return result

    def _store(self, name: str, result: DeviceInfoResult, now: float) -> None:
        key = name.upper()
        with self._lock:
            self._cache[key] = (now, result)
            self._cache.move_to_end(key)
            if len(self._cache) <= self._max_entries:
                return
            expired = [k for k, (stored, _) in self._cache.items() if now - stored > self._ttl]
            for k in expired:
                del self._cache[k]
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)

    def clear_cache(self, device: str | None = None) -> None:
        """Forget one device's cached metadata, or everything."""
        with self._lock:
            if device is None:
                self._cache.clear()
            else:
                self._cache.pop(device.upper(), None)

    # --- queries -------------------------------------------------------------------------

    def get_device_info(
        self, names: Iterable[str], timeout: float | None = None
    ) -> dict[str, DeviceInfoResult]:
        """Metadata by device name; DeviceError for the first name DevDB reports as unknown.

        Cache hits are returned under the requested spelling, fetched entries under the
        name the server echoes.  gRPC failures propagate as ``grpc.RpcError``.
        """
        self._check_open()
        requested = _names(names, "names")
        for name in requested:
            if not isinstance(name, str) or not name:
                raise ValueError(f"Device names must be non-empty strings, got {name!r}")
        deadline = checked_timeout(timeout, self._timeout)
        now = time.monotonic()
        result: dict[str, DeviceInfoResult] = {}
        missed: list[str] = []
        for name in requested:
            hit = self._cached(name, now)
            if hit is not None:
                result[name] = hit
            else:
                missed.append(name)
        if not missed:
            return result
        reply = self._stub.getDeviceInfo(devdb_pb2.DeviceList(device=missed), timeout=deadline)
        error: tuple[str, str] | None = None
        fetched = time.monotonic()
        for entry in reply.set:
            kind = entry.WhichOneof("result")
            if kind == "device":
                info = device_info_from_proto(entry.device)
                if is_empty_device(info):
                    error = error or (entry.name, f"Device '{entry.name}' not found in DevDB")
                    continue
                result[entry.name] = info
                self._store(entry.name, info, fetched)
            elif kind == "errMsg":
                error = error or (entry.name, entry.errMsg)
        if error is not None:
            raise DeviceError(drf=error[0], facility_code=0, error_code=-1, message=error[1])
        return result

    def get_alarm_info(self, names: Iterable[str]) -> list[AlarmInfo]:
        """Alarm blocks of the devices, in reply order (not cached)."""
        self._check_open()
        request = devdb_pb2.DeviceList(device=_names(names, "names"))
        reply = self._stub.getAllAlarmInfo(request, timeout=self._timeout)
        return [alarm_info_from_proto(info) for info in reply.alarm_info]

    def get_alarm_text(self, ids: Iterable[int]) -> list[AlarmText]:
        """Alarm texts by id, in reply order (not cached)."""
        self._check_open()
        id_list = _names(ids, "ids")
        for item in id_list:
            if isinstance(item, bool) or not isinstance(item, int) or item < 0:
                raise ValueError(f"Alarm text ids must be non-negative integers, got {item!r}")
        reply = self._stub.getAlarmText(
            devdb_pb2.AlarmTextIdList(alarm_text_id=id_list), timeout=self._timeout
        )
        return [alarm_text_from_proto(text) for text in reply.device_alarm_text]

    def close(self) -> None:
        """Close the channel; later queries raise RuntimeError. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._channel.close()
        _open_clients.discard(self)
