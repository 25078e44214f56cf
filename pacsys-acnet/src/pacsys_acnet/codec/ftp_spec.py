"""DataEventFactory strings for fast time plots and snapshots (``f,type=ftp,...``).

``docs/protocols/acnet.md`` §9. Pure parsing into frozen dataclasses; nothing goes on a wire.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ClockSample",
    "ClockTrigger",
    "DeviceTrigger",
    "ExternalSample",
    "ExternalTrigger",
    "FTPSpec",
    "PeriodicSample",
    "ReArmSpec",
    "SnapshotSpec",
    "StateTrigger",
    "parse_ftp_event",
]

_PREFIXES = ("f,type=ftp,", "f,type=snp,")
_PREFERENCES = ("rate", "both", "none", "dur")


@dataclass(frozen=True)
class PeriodicSample:
    pass


@dataclass(frozen=True)
class ClockSample:
    events: tuple[int, ...]


@dataclass(frozen=True)
class ExternalSample:
    modifier: int = 0


@dataclass(frozen=True)
class ClockTrigger:
    events: tuple[int, ...]
    delay_ms: int = 0


@dataclass(frozen=True)
class DeviceTrigger:
    device: str
    mask: int = 0
    value: int = 0
    delay_ms: int = 0


@dataclass(frozen=True)
class ExternalTrigger:
    modifier: int = 0


@dataclass(frozen=True)
class StateTrigger:
    device: str
    value: int
    delay_ms: int = 0
    flag: str = "="


@dataclass(frozen=True)
class ReArmSpec:
    enabled: bool
    delay_event: str | None = None
    max_per_hour: int = -1


Trigger = ClockTrigger | DeviceTrigger | ExternalTrigger | StateTrigger
Sample = PeriodicSample | ClockSample | ExternalSample


@dataclass(frozen=True)
class FTPSpec:
    rate_hz: float
    duration_s: float
    trigger: Trigger | None = None
    rearm: ReArmSpec | None = None


@dataclass(frozen=True)
class SnapshotSpec:
    rate_hz: int
    duration_s: float
    num_points: int
    preference: str
    sample: Sample
    trigger: Trigger | None = None
    rearm: ReArmSpec | None = None


def _fields(text: str) -> tuple[str, dict[str, str]]:
    """``head`` (text before the first ``key=``) and ``{key: value}``; a value runs until the
    next ``key=`` token, so ``dly=p,60000,false`` keeps its commas."""
    head: list[str] = []
    fields: dict[str, str] = {}
    key = None
    for token in text.split(","):
        name, sep, value = token.partition("=")
        if sep:
            key = name.strip().lower()
            fields[key] = value
        elif key is None:
            head.append(token)
        else:
            fields[key] += "," + token
    return ",".join(head), fields


def _modifier(text: str, what: str) -> int:
    value = int(text)
    if not 0 <= value <= 3:
        raise ValueError(f"{what} modifier must be 0-3, got {value}")
    return value


def _clock_events(args: list[str], limit: int, what: str) -> tuple[int, ...]:
    events = tuple(int(a, 16) for a in args if a)
    if len(events) > limit:
        raise ValueError(f"{what} supports max {limit} events, got {len(events)}")
    return events


def _trigger(section: str) -> Trigger | None:
    if section.strip().lower() == "null":
        return None
    name, sep, rest = section.partition("=")
    if not sep or name.strip().lower() != "trig" or not rest:
        raise ValueError(f"Invalid trigger section: {section}")
    kind, *args = rest.split(",")
    kind = kind.strip().lower()
    if kind == "e":
        if not args:
            return ClockTrigger((), 0)
        delay = int(args[-1])
        return ClockTrigger(_clock_events(args[:-1], 8, "Clock trigger"), delay)
    if kind == "d":
        if not args or not args[0]:
            raise ValueError("Device trigger requires at least a device name")
        values = {"mask": 0, "val": 0, "dly": 0}
        for arg in args[1:]:
            key, sep, value = arg.partition("=")
            key = key.strip().lower()
            if not sep or key not in values:
                raise ValueError(f"Unknown device trigger field: {arg!r}")
            values[key] = int(value, 10 if key == "dly" else 16)
        return DeviceTrigger(args[0], values["mask"], values["val"], values["dly"])
    if kind == "x":
        if not args:
            return ExternalTrigger(0)
        text = args[0].partition("=")[2] if "=" in args[0] else args[-1]
        return ExternalTrigger(_modifier(text, "External trigger"))
    if kind == "s":
        if len(args) < 4:
            raise ValueError(f"State trigger needs device,value,delay,flag: {section}")
        return StateTrigger(args[0], int(args[1]), int(args[2]), args[3])
    raise ValueError(f"Unknown trigger type: {kind}")


def _rearm(section: str) -> ReArmSpec | None:
    if section.strip().lower() == "null":
        return None
    _, fields = _fields(section)
    if "rearm" not in fields:
        raise ValueError(f"Invalid rearm section: {section}")
    enabled = fields["rearm"].strip().lower()
    if enabled not in ("true", "false"):
        raise ValueError(f"Invalid rearm enabled value: {fields['rearm']!r}")
    delay = fields.get("dly")
    if delay is not None and delay.strip().lower() == "null":
        delay = None
    return ReArmSpec(enabled == "true", delay, int(fields.get("nmhr", "-1")))


def _sample(text: str) -> Sample:
    kind, *args = text.split(",")
    kind = kind.strip().lower()
    if kind == "p":
        return PeriodicSample()
    if kind == "e":
        return ClockSample(_clock_events(args, 4, "Clock sample"))
    if kind == "x":
        return ExternalSample(_modifier(args[-1], "External sample") if args else 0)
    raise ValueError(f"Unknown sample type: {kind}")


def parse_ftp_event(text: str) -> FTPSpec | SnapshotSpec:
    """Parse ``f,type=ftp,rate=R,dur=D[;trigger|null[;rearm|null]]`` or the ``snp`` form."""
    if len(text) <= len(_PREFIXES[0]):
        raise ValueError(f"Event string too short: {text!r}")
    prefix = text[: len(_PREFIXES[0])].lower()
    if prefix not in _PREFIXES:
        raise ValueError(f"Unknown event type prefix: {text[: len(_PREFIXES[0])]!r}")
    sections = text.split(";")
    _, fields = _fields(sections[0][len("f,") :])
    trigger = _trigger(sections[1]) if len(sections) > 1 else None
    rearm = _rearm(sections[2]) if len(sections) > 2 else None
    if prefix == _PREFIXES[0]:
        for name in ("rate", "dur"):
            if name not in fields:
                raise ValueError(f"FTP scope missing required {name!r} field")
        return FTPSpec(float(fields["rate"]), float(fields["dur"]), trigger, rearm)
    missing = [n for n in ("rate", "dur", "npts", "pref", "smpl") if n not in fields]
    if missing:
        raise ValueError(f"Snapshot scope missing required fields: {', '.join(missing)}")
    preference = fields["pref"].strip().lower()
    if preference not in _PREFERENCES:
        choices = "{" + ", ".join(repr(p) for p in _PREFERENCES) + "}"
        raise ValueError(f"Invalid preference: {fields['pref']!r} (expected one of {choices})")
    return SnapshotSpec(
        int(float(fields["rate"])),
        float(fields["dur"]),
        int(fields["npts"]),
        preference,
        _sample(fields["smpl"]),
        trigger,
        rearm,
    )
