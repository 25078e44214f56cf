"""``pacsys.supervised``: the supervised gRPC proxy server (provided by pacsys-grpc)."""

from pacsys._provided import reexport

reexport(globals(), "pacsys_grpc.supervised", "pacsys-grpc")
