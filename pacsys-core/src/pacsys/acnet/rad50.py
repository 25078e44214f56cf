"""``pacsys.acnet.rad50``: provided by pacsys-acnet (``pacsys_acnet.codec.rad50``)."""

from pacsys._provided import reexport

reexport(globals(), "pacsys_acnet.codec.rad50", "pacsys-acnet")
