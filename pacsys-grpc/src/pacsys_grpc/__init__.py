"""pacsys-grpc: pacsys transport: DAQ and DevDB over gRPC, supervised proxy server."""
