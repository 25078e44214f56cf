"""``pacsys.acnet.gets32``: provided by pacsys-acnet (``pacsys_acnet.gets32``)."""

from pacsys._provided import reexport

reexport(globals(), "pacsys_acnet.gets32", "pacsys-acnet")
