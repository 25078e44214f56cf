"""Pure DRF -> ACL CGI command mapping and query building (docs/protocols/acl.md §2, §3, §7.3).

``plan_read`` classifies one DRF before any I/O: an ordinary ``read`` command, a basic
status composed of five single-field reads, or a refusal (periodic event, extra).
"""

from __future__ import annotations

import enum
from urllib.parse import quote

import attrs

from pacsys.drf3 import DRF_FIELD, DRF_PROPERTY, DataRequest, parse_request
from pacsys.drf3.events import DEFAULT_EVENT
from pacsys_acl.parse import STATUS_ATTRIBUTES

__all__ = [
    "COMMAND_SEPARATOR",
    "PlanKind",
    "ReadPlan",
    "acl_quote",
    "build_url",
    "plan_read",
]

#: Sent literally between commands: backslash + semicolon.
COMMAND_SEPARATOR = "\\;"

# Characters ACL needs raw in a DRF; the CGI decodes no other %XX than %20 and %27.
_DRF_SAFE = ":[]@,$|{}"

PERIODIC_MESSAGE = "ACL backend does not support periodic/streaming events: {drf}"
EXTRA_MESSAGE = "ACL backend does not support the <- extra/logger qualifier: {drf}"


class PlanKind(enum.Enum):
    """How a DRF is read through the CGI."""

    READ = "read"
    STATUS = "status"
    REFUSED = "refused"


@attrs.frozen
class ReadPlan:
    """What the client does for one DRF."""

    drf: str
    kind: PlanKind
    commands: tuple[str, ...] = ()
    refusal: str | None = None
    raw: bool = False
    description: bool = False
    status_field: str | None = None


def acl_quote(text: str) -> str:
    """Percent-encode ``text`` leaving letters, digits and ``_.-~:[]@,$|{}`` raw."""
    return quote(text, safe=_DRF_SAFE)


def build_url(base_url: str, script: str) -> str:
    """``<base_url>?acl=<script>`` with the script inserted verbatim."""
    joiner = "&" if "?" in base_url else "?"
    return f"{base_url}{joiner}acl={script}"


def _status_commands(request: DataRequest) -> tuple[str, ...]:
    device = request.to_canonical(range=None, event=DEFAULT_EVENT, extra=None)
    base = device.split(".", 1)[0]
    return tuple(f"read+{acl_quote(f'{base}.STATUS.{word}')}" for word, _ in STATUS_ATTRIBUTES)


def plan_read(drf: str) -> ReadPlan:
    """Classify ``drf`` and build its ACL command(s); ValueError for malformed DRF."""
    if not isinstance(drf, str):
        raise TypeError(f"DRF must be a string, got {type(drf).__name__}")
    request = parse_request(drf)
    if request.extra is not None or request.extra_raw is not None:
        return ReadPlan(drf, PlanKind.REFUSED, refusal=EXTRA_MESSAGE.format(drf=drf))
    mode = request.event.mode
    if mode in ("P", "Q"):
        return ReadPlan(drf, PlanKind.REFUSED, refusal=PERIODIC_MESSAGE.format(drf=drf))
    prop = request.property
    if prop is DRF_PROPERTY.STATUS and request.field in (None, DRF_FIELD.ALL):
        return ReadPlan(drf, PlanKind.STATUS, commands=_status_commands(request))
    verb = "read"
    qualifiers = ""
    if mode == "U" and prop is DRF_PROPERTY.READING:
        target = drf
    else:
        target = request.to_canonical(event=DEFAULT_EVENT)
    raw = request.field is DRF_FIELD.RAW
    if raw:
        qualifiers += "/raw"
    if mode == "E":
        verb = "read/pendwait"
        qualifiers += f"/event='{request.event.raw_string}'"
    status_field = None
    if prop is DRF_PROPERTY.STATUS and request.field is not None:
        word = request.field.name
        status_field = word if any(word == w for w, _ in STATUS_ATTRIBUTES) else None
    return ReadPlan(
        drf,
        PlanKind.READ,
        commands=(f"{verb}+{acl_quote(target)}{qualifiers}",),
        raw=raw,
        description=prop is DRF_PROPERTY.DESCRIPTION,
        status_field=status_field,
    )
