"""DPM request messages and the setting structs they carry (docs/protocols/dpm.md §3).

Re-exported by :mod:`.messages`; see there for the naming and value conventions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .frozen import Struct, struct
from .message_base import (
    Request,
    arrays_equal,
    as_bytes,
    as_tuple,
    f64_array,
    register_request,
)
from .schema import (
    BINARY,
    DOUBLE_ARRAY,
    INT16,
    INT32,
    INT64,
    STRING,
    STRING_ARRAY,
    struct_array,
    wire_field,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Float64Array = npt.NDArray[np.float64]
    Int64Array = npt.NDArray[np.int64]


# --------------------------------------------------------------------------- setting structs


@struct
class RawSetting(Struct):
    """Raw bytes to write to entry ``ref_id``."""

    ref_id: int = wire_field(INT64)
    data: bytes = wire_field(BINARY, converter=as_bytes)


@struct
class ScaledSetting(Struct):
    """Engineering-unit values to write (one element for a scalar)."""

    ref_id: int = wire_field(INT64)
    data: Float64Array = wire_field(DOUBLE_ARRAY, converter=f64_array, eq=arrays_equal)


@struct
class TextSetting(Struct):
    """Text values to write (one element for a text scalar)."""

    ref_id: int = wire_field(INT64)
    data: tuple[str, ...] = wire_field(STRING_ARRAY, converter=as_tuple)


@struct
class SettingStatus(Struct):
    """Outcome of one setting in the ApplySettings reply (0 = success)."""

    ref_id: int = wire_field(INT64)
    status: int = wire_field(INT16)


# --------------------------------------------------------------------------- requests


@register_request("ServiceDiscovery")
@struct
class ServiceDiscoveryRequest(Request):
    """Ask which DPMs exist (ACNET only; ignored over TCP)."""


@register_request("OpenList")
@struct
class OpenListRequest(Request):
    """Open a list (ACNET only; over TCP the list is opened implicitly)."""

    location: str | None = wire_field(STRING, optional=True)


@register_request("AddToList")
@struct
class AddToListRequest(Request):
    """Add or replace entry ``ref_id`` with a DRF request or a ``#KEY:VALUE`` property."""

    list_id: int = wire_field(INT32)
    ref_id: int = wire_field(INT64)
    drf_request: str = wire_field(STRING)


@register_request("RemoveFromList")
@struct
class RemoveFromListRequest(Request):
    """Remove one entry (effective at the next StartList)."""

    list_id: int = wire_field(INT32)
    ref_id: int = wire_field(INT64)


@register_request("StartList")
@struct
class StartListRequest(Request):
    """Start or restart acquisition of every entry."""

    list_id: int = wire_field(INT32)
    model: str | None = wire_field(STRING, optional=True)


@register_request("StopList")
@struct
class StopListRequest(Request):
    """Stop acquisition; entries are kept."""

    list_id: int = wire_field(INT32)


@register_request("ClearList")
@struct
class ClearListRequest(Request):
    """Remove all entries."""

    list_id: int = wire_field(INT32)


@register_request("Authenticate")
@struct
class AuthenticateRequest(Request):
    """A GSS-API token round; an empty token asks for the service name."""

    list_id: int = wire_field(INT32)
    token: bytes = wire_field(BINARY, converter=as_bytes)


@register_request("EnableSettings")
@struct
class EnableSettingsRequest(Request):
    """Prove the GSS context with a MIC over ``message``."""

    list_id: int = wire_field(INT32)
    mic: bytes = wire_field(BINARY, wire_name="MIC", converter=as_bytes)
    message: bytes = wire_field(BINARY, converter=as_bytes)


@register_request("ApplySettings")
@struct
class ApplySettingsRequest(Request):
    """Write settings to entries of the list; absent arrays are ``None``."""

    user_name: str = wire_field(STRING)
    list_id: int = wire_field(INT32)
    raw_array: tuple[RawSetting, ...] | None = wire_field(
        struct_array(RawSetting), optional=True, converter=as_tuple
    )
    scaled_array: tuple[ScaledSetting, ...] | None = wire_field(
        struct_array(ScaledSetting), optional=True, converter=as_tuple
    )
    text_array: tuple[TextSetting, ...] | None = wire_field(
        struct_array(TextSetting), optional=True, converter=as_tuple
    )
