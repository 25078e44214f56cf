"""The pure gRPC codec: protobuf messages <-> pacsys Readings, WriteResults, values, statuses
and DevDB records (docs/protocols/grpc.md §3-§7).

No grpc, sockets, threads or clocks here: functions that need "now" take it as an argument,
and what a failed RPC's gRPC status code means lives in the driver layer
(:mod:`pacsys_grpc.rpc_status`).  One module per job:

* :mod:`.statuses` - ``Status`` messages, ACNET codes, failure results
* :mod:`.timestamps` - ``Timestamp`` <-> datetime / epoch microseconds
* :mod:`.values` - ``Value`` <-> Python values
* :mod:`.readings` - client: replies -> Readings
* :mod:`.timed` - TIMED_SCALAR_ARRAY <-> runs of samples
* :mod:`.replies` - server: Readings -> replies, loss notices
* :mod:`.settings` - settings and write results
* :mod:`.metadata` - call metadata (JWT)
* :mod:`.devdb` - DevDB messages <-> ``pacsys.metadata`` records
"""

from __future__ import annotations

from pacsys_grpc.codec.metadata import bearer_metadata, split_metadata
from pacsys_grpc.codec.readings import (
    missing_reply_reading,
    reading_from_oneshot_reply,
    reading_from_proto,
    reading_from_status,
    readings_from_reply,
)
from pacsys_grpc.codec.replies import (
    LOGGER_CHUNK_SIZE,
    loss_notice_replies,
    loss_notice_text,
    reading_to_replies,
)
from pacsys_grpc.codec.settings import (
    setting_reply,
    setting_to_proto,
    settings_from_request,
    write_result_to_status,
    write_results_from_reply,
)
from pacsys_grpc.codec.statuses import (
    EMPTY_VALUE_MESSAGE,
    ERR_QUEFULL,
    ERR_RETRY,
    ERR_TIMEOUT,
    FACILITY_ACNET,
    NO_RESPONSE_MESSAGE,
    NO_STATUS_MESSAGE,
    failure_reading,
    failure_write_result,
    is_loss_notice,
    normalize_status_code,
    status_from_proto,
    status_to_proto,
)
from pacsys_grpc.codec.timed import timed_array_from_samples
from pacsys_grpc.codec.timestamps import Now, sample_time, timestamp_to_proto
from pacsys_grpc.codec.values import EmptyValueError, value_from_proto, value_to_proto

__all__ = [
    "EMPTY_VALUE_MESSAGE",
    "ERR_QUEFULL",
    "ERR_RETRY",
    "ERR_TIMEOUT",
    "FACILITY_ACNET",
    "LOGGER_CHUNK_SIZE",
    "NO_RESPONSE_MESSAGE",
    "NO_STATUS_MESSAGE",
    "EmptyValueError",
    "Now",
    "bearer_metadata",
    "failure_reading",
    "failure_write_result",
    "is_loss_notice",
    "loss_notice_replies",
    "loss_notice_text",
    "missing_reply_reading",
    "normalize_status_code",
    "reading_from_oneshot_reply",
    "reading_from_proto",
    "reading_from_status",
    "reading_to_replies",
    "readings_from_reply",
    "sample_time",
    "setting_reply",
    "setting_to_proto",
    "settings_from_request",
    "split_metadata",
    "status_from_proto",
    "status_to_proto",
    "timed_array_from_samples",
    "timestamp_to_proto",
    "value_from_proto",
    "value_to_proto",
    "write_result_to_status",
    "write_results_from_reply",
]
