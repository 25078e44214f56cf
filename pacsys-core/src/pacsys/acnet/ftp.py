"""``pacsys.acnet.ftp``: provided by pacsys-acnet (``pacsys_acnet.ftp``)."""

from pacsys._provided import reexport

reexport(globals(), "pacsys_acnet.ftp", "pacsys-acnet")
