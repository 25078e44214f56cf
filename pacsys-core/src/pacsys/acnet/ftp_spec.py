"""``pacsys.acnet.ftp_spec``: provided by pacsys-acnet (``pacsys_acnet.codec.ftp_spec``)."""

from pacsys._provided import reexport

reexport(globals(), "pacsys_acnet.codec.ftp_spec", "pacsys-acnet")
