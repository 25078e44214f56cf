"""``pacsys.acnet.packet``: provided by pacsys-acnet (``pacsys_acnet.codec.packet``)."""

from pacsys._provided import reexport

reexport(globals(), "pacsys_acnet.codec.packet", "pacsys-acnet")
