"""``pacsys.acnet.constants``: provided by pacsys-acnet (``pacsys_acnet.constants``)."""

from pacsys._provided import reexport

reexport(globals(), "pacsys_acnet.constants", "pacsys-acnet")
