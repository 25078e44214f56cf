"""``pacsys.devdb``: the DevDB metadata client (provided by pacsys-grpc)."""

from pacsys._provided import reexport

reexport(globals(), "pacsys_grpc.devdb", "pacsys-grpc")
