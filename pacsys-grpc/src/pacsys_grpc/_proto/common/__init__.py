"""Generated protobuf and gRPC modules; regenerate with tools/generate_protos.py."""
