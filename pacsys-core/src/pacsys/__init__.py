"""pacsys: read, write and stream ACNET device data."""
