"""``pacsys.acnet.dpm_acnet``: provided by pacsys-acnet (``pacsys_acnet.dpm_acnet``)."""

from pacsys._provided import reexport

reexport(globals(), "pacsys_acnet.dpm_acnet", "pacsys-acnet")
