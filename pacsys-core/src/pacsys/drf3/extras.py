"""DRF extras: the ``<-SOURCE[:params]`` data-source suffix."""

from __future__ import annotations

import enum

__all__ = ["CHUNKED_HISTORICAL_EXTRAS", "DRF_EXTRA", "HISTORICAL_EXTRAS", "parse_extra"]


class DRF_EXTRA(enum.Enum):
    """Alternative data source named after ``<-``."""

    __hash__ = object.__hash__  # identity hash: members are singletons (fast dict/set keys)

    FTP = "FTP"
    LIVEDATA = "LIVEDATA"
    LOGGER = "LOGGER"
    LOGGERSINGLE = "LOGGERSINGLE"
    LOGGERDURATION = "LOGGERDURATION"
    SRFILE = "SRFILE"
    SDAFILE = "SDAFILE"
    REDIR = "REDIR"
    MIRROR = "MIRROR"


# Extras that supply their own (logged) data instead of live readings.
HISTORICAL_EXTRAS = frozenset((DRF_EXTRA.LOGGER, DRF_EXTRA.LOGGERSINGLE, DRF_EXTRA.LOGGERDURATION))
# Historical extras the server answers in chunks terminated by an empty reply.
CHUNKED_HISTORICAL_EXTRAS = frozenset((DRF_EXTRA.LOGGER, DRF_EXTRA.LOGGERDURATION))

_EXTRA_BY_NAME: dict[str, DRF_EXTRA] = {extra.value: extra for extra in DRF_EXTRA}


def parse_extra(text: str) -> DRF_EXTRA:
    """Extra named by ``text`` (the part after ``<-``); parameters after ``:``/``[`` are ignored."""
    name = text.upper().partition(":")[0].partition("[")[0]
    extra = _EXTRA_BY_NAME.get(name)
    if extra is None:
        raise ValueError(f"Invalid extra {text}")
    return extra
