"""DevDBServer: serves the DevDB gRPC service from any :class:`pacsys.metadata.MetadataSource`.

Implements the three device/alarm methods as docs/protocols/grpc.md §10 requires of a DevDB
server (the reply ``InfoEntry.name`` echoes the requested spelling); the five
plot-configuration methods answer UNIMPLEMENTED.  Plaintext only: clients use ``tls=False``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import grpc

from pacsys.metadata import MetadataSource
from pacsys_grpc._aio_server import AioServerThread
from pacsys_grpc._params import client_host
from pacsys_grpc._proto.services import devdb_pb2, devdb_pb2_grpc
from pacsys_grpc.codec.devdb import alarm_info_to_proto, alarm_text_to_proto, device_info_to_proto
from pacsys_grpc.rpc_status import Abort

__all__ = ["DevDBServer", "DevDBServicer", "ThreadedDevDBServicer"]

log = logging.getLogger("pacsys_grpc.devdb_server")


def check_source(source: Any) -> MetadataSource:
    """``source`` if it implements MetadataSource, else TypeError."""
    if not isinstance(source, MetadataSource):
        raise TypeError(
            "source must provide device_info(name), alarm_info(name) and alarm_text(id), "
            f"got {type(source).__name__}"
        )
    return source


# --- the replies, shared by both servicers (lookups that end the RPC return an Abort) -----


def device_info_reply(source: MetadataSource, names: list[str]) -> devdb_pb2.DeviceInfoReply:
    """One entry per name, in order; a failed or empty lookup is that entry's ``errMsg``."""
    reply = devdb_pb2.DeviceInfoReply()
    for name in names:
        try:
            info = source.device_info(name)
        except Exception as exc:  # one bad name must not fail the batch
            log.warning("device_info(%r) failed: %s", name, exc)
            reply.set.add(name=name, errMsg=f"DevDB lookup failed for {name}: {exc}")
            continue
        if info is None:
            reply.set.add(name=name, errMsg=f"Device '{name}' not found")
        else:
            reply.set.add(name=name, device=device_info_to_proto(info))
    return reply


def alarm_info_reply(source: MetadataSource, names: list[str]) -> Any:
    """Every alarm of the named devices, or INTERNAL when a lookup fails."""
    reply = devdb_pb2.AlarmInfoReply()
    try:
        for name in names:
            found = source.alarm_info(name)
            items = found if isinstance(found, list | tuple) else [found]
            reply.alarm_info.extend(alarm_info_to_proto(i) for i in items if i is not None)
    except Exception as exc:
        return Abort(grpc.StatusCode.INTERNAL, f"Alarm lookup failed: {exc}")
    return reply


def alarm_text_reply(source: MetadataSource, ids: list[int]) -> Any:
    """The texts found for ``ids`` (unknown ones left out), or INTERNAL when a lookup fails."""
    reply = devdb_pb2.DeviceAlarmTextList()
    try:
        for alarm_text_id in ids:
            text = source.alarm_text(alarm_text_id)
            if text is not None:
                reply.device_alarm_text.append(alarm_text_to_proto(text))
    except Exception as exc:
        return Abort(grpc.StatusCode.INTERNAL, f"Alarm text lookup failed: {exc}")
    return reply


PLOT_UNSUPPORTED = Abort(
    grpc.StatusCode.UNIMPLEMENTED, "Plot configurations are not supported by this DevDB server"
)
Lookup = Callable[[MetadataSource, Any], Any]
_LOOKUPS: dict[str, tuple[Lookup, str]] = {
    "getDeviceInfo": (device_info_reply, "device"),
    "getAllAlarmInfo": (alarm_info_reply, "device"),
    "getAlarmText": (alarm_text_reply, "alarm_text_id"),
}


class DevDBServicer(devdb_pb2_grpc.DevDBServicer):
    """Async DevDB handlers; source lookups run in ``executor`` (a named worker pool)."""

    def __init__(self, source: MetadataSource, executor: Executor) -> None:
        self._source = check_source(source)
        self._executor = executor

    async def _answer(self, method: str, request: Any, context: Any) -> Any:
        lookup, field = _LOOKUPS[method]
        keys = list(getattr(request, field))
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._executor, lookup, self._source, keys)
        if isinstance(result, Abort):
            await context.abort(result.code, result.details)
        return result

    async def getDeviceInfo(self, request: Any, context: Any) -> Any:
        return await self._answer("getDeviceInfo", request, context)

    async def getAllAlarmInfo(self, request: Any, context: Any) -> Any:
        return await self._answer("getAllAlarmInfo", request, context)

    async def getAlarmText(self, request: Any, context: Any) -> Any:
        return await self._answer("getAlarmText", request, context)

    async def _unsupported(self, request: Any, context: Any) -> Any:
        await context.abort(*PLOT_UNSUPPORTED)

    getPlotConfiguration = _unsupported
    getUserPlotConfiguration = _unsupported
    deletePlotConfiguration = _unsupported
    savePlotConfiguration = _unsupported
    saveUserPlotConfiguration = _unsupported


class ThreadedDevDBServicer(devdb_pb2_grpc.DevDBServicer):
    """The same handlers for a sync grpc server: lookups run on the RPC's worker thread."""

    def __init__(self, source: MetadataSource) -> None:
        self._source = check_source(source)

    def _answer(self, method: str, request: Any, context: Any) -> Any:
        lookup, field = _LOOKUPS[method]
        result = lookup(self._source, list(getattr(request, field)))
        if isinstance(result, Abort):
            context.abort(result.code, result.details)
        return result

    def getDeviceInfo(self, request: Any, context: Any) -> Any:
        return self._answer("getDeviceInfo", request, context)

    def getAllAlarmInfo(self, request: Any, context: Any) -> Any:
        return self._answer("getAllAlarmInfo", request, context)

    def getAlarmText(self, request: Any, context: Any) -> Any:
        return self._answer("getAlarmText", request, context)

    def _unsupported(self, request: Any, context: Any) -> Any:
        context.abort(*PLOT_UNSUPPORTED)

    getPlotConfiguration = _unsupported
    getUserPlotConfiguration = _unsupported
    deletePlotConfiguration = _unsupported
    savePlotConfiguration = _unsupported
    saveUserPlotConfiguration = _unsupported


class DevDBServer:
    """A stand-alone DevDB server (context manager); ``port=0`` picks a free port."""

    def __init__(self, source: MetadataSource, host: str = "127.0.0.1", port: int = 0) -> None:
        self._executor = ThreadPoolExecutor(4, thread_name_prefix="pacsys-devdb")
        servicer = DevDBServicer(source, self._executor)
        self._runner = AioServerThread(  # checks host and port
            "devdb-server",
            host,
            port,
            lambda server, loop: devdb_pb2_grpc.add_DevDBServicer_to_server(servicer, server),
        )
        self._host = host

    @property
    def port(self) -> int:
        if self._runner.port is None:
            raise RuntimeError("DevDBServer is not running")
        return self._runner.port

    @property
    def address(self) -> str:
        return f"{client_host(self._host)}:{self.port}"

    def client_env(self) -> dict[str, str]:
        """Environment that points DevDBClient (and Device.info) at this server."""
        return {
            "PACSYS_DEVDB_HOST": client_host(self._host),
            "PACSYS_DEVDB_PORT": str(self.port),
            "PACSYS_DEVDB_TLS": "0",
        }

    def start(self) -> DevDBServer:
        self._runner.start()
        return self

    def stop(self) -> None:
        """Stop serving and the lookup workers; idempotent."""
        self._runner.stop()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> DevDBServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        port = self._runner.port
        return f"<DevDBServer {self._host}:{port if port is not None else '-'}>"
