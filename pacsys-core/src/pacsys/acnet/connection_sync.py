"""``pacsys.acnet.connection_sync``: provided by pacsys-acnet (``pacsys_acnet.connection``)."""

from pacsys._provided import reexport

reexport(globals(), "pacsys_acnet.connection", "pacsys-acnet")
