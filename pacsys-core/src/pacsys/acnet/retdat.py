"""``pacsys.acnet.retdat``: provided by pacsys-acnet (``pacsys_acnet.retdat``)."""

from pacsys._provided import reexport

reexport(globals(), "pacsys_acnet.retdat", "pacsys-acnet")
