"""Numbers of the acnetd client protocol: ports, sizes, command, ACK and packet-flag codes.

Transport, commands and ACKs, packets: docs/protocols/acnet.md §1, §3 and §4.
"""

from __future__ import annotations

from typing import Final

ACSYS_PROXY_HOST: Final = "acsys-proxy.fnal.gov"
ACNET_PORT: Final = 6801  # node to node; clients never use it
ACNET_CLIENT_PORT: Final = 6802
ACNET_TCP_PORT: Final = 6802
ACNET_HEADER_SIZE: Final = 18
DEFAULT_TIMEOUT: Final = 5000  # ms
INFINITE_TIMEOUT: Final = 0x7FFFFFFF  # ms, "no timeout" on the wire
KEEPALIVE_INTERVAL: Final = 30.0  # s
ACK_TIMEOUT: Final = 5.0  # s per command
CLOSE_ACK_TIMEOUT: Final = 0.5  # s for DISCONNECT while closing
CONNECT_TIMEOUT: Final = 5.0  # s for the TCP connect
MAX_ACNET_MESSAGE_SIZE: Final = 8320  # 8 KiB + 128
MAX_FRAME_SIZE: Final = 65535

TCP_HANDSHAKE: Final = b"RAW\r\n\r\n"

# TCP frame types
TCP_CLIENT_PING: Final = 0
ACNETD_COMMAND: Final = 1
ACNETD_ACK: Final = 2
ACNETD_DATA: Final = 3

# packet flags
ACNET_FLG_USM: Final = 0x0000
ACNET_FLG_REQ: Final = 0x0002
ACNET_FLG_RPY: Final = 0x0004
ACNET_FLG_MLT: Final = 0x0001
ACNET_FLG_CAN: Final = 0x0200
ACNET_FLG_TYPE: Final = 0x000E
REPLY_NORMAL: Final = 0
REPLY_ENDMULT: Final = 2
MULTICAST_NODE: Final = 0x00FF

# commands (client -> daemon)
CMD_KEEPALIVE: Final = 0
CMD_CONNECT: Final = 1
CMD_RENAME_TASK: Final = 2
CMD_DISCONNECT: Final = 3
CMD_SEND: Final = 4
CMD_SEND_REQUEST: Final = 5
CMD_RECEIVE_REQUESTS: Final = 6
CMD_SEND_REPLY: Final = 7
CMD_CANCEL: Final = 8
CMD_REQUEST_ACK: Final = 9
CMD_ADD_NODE: Final = 10
CMD_NAME_LOOKUP: Final = 11
CMD_NODE_LOOKUP: Final = 12
CMD_LOCAL_NODE: Final = 13
CMD_TASK_PID: Final = 14
CMD_NODE_STATS: Final = 15
CMD_CONNECT_EXT: Final = 16
CMD_DISCONNECT_SINGLE: Final = 17
CMD_SEND_REQUEST_TIMEOUT: Final = 18
CMD_IGNORE_REQUEST: Final = 19
CMD_BLOCK_REQUESTS: Final = 20
CMD_TCP_CONNECT: Final = 21
CMD_DEFAULT_NODE: Final = 22
CMD_TCP_CONNECT_EXT: Final = 23

# ACK codes (daemon -> client)
ACK_ACK: Final = 0
ACK_CONNECT: Final = 1
ACK_SEND_REQUEST: Final = 2
ACK_SEND_REPLY: Final = 3
ACK_NAME_LOOKUP: Final = 4
ACK_NODE_LOOKUP: Final = 5
ACK_TASK_PID: Final = 6
ACK_NODE_STATS: Final = 7
ACK_CONNECT_EXT: Final = 16

__all__ = [name for name in dir() if name.isupper()]
