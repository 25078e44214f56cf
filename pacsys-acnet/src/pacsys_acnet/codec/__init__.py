"""Pure codec of raw ACNET (``docs/protocols/acnet.md``): no sockets, threads or clocks.

RAD50 names, daemon commands and ACKs, TCP frames, ACNET packets and DATA units, and the
payloads of RETDAT, GETS32, FTPMAN and DPM over ACNET, in both directions (the client's
and the emulated daemon's).
"""
