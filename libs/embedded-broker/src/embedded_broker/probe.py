"""A Kafka Metadata request over a plain socket: has the broker really started?

A tansu that failed to start can still leave its port accepting (another process holds it),
or exit with code 0, so accepting TCP proves nothing. A broker that answers Metadata and
advertises itself where it was asked to is ready. Only the standard library is used, so the
probe works the same from synchronous code and from inside a running event loop.
"""

import socket
import struct

__all__ = ["advertised_brokers"]

_METADATA_API_KEY = 3
_METADATA_VERSION = 0
_CORRELATION_ID = 0x5F1C
_CLIENT_ID = b"embedded-broker-probe"
_ALL_TOPICS = 0  # In Metadata v0 an empty topic list asks for every topic.


def advertised_brokers(host: str, port: int, timeout_seconds: float) -> list[tuple[str, int]]:
    """The `(host, port)` of every broker the Metadata answer lists.

    Raises `OSError` when nothing answers in time or the answer is not Kafka's.
    """
    request = struct.pack(
        ">hhih", _METADATA_API_KEY, _METADATA_VERSION, _CORRELATION_ID, len(_CLIENT_ID)
    )
    request += _CLIENT_ID + struct.pack(">i", _ALL_TOPICS)
    with socket.create_connection((host, port), timeout=timeout_seconds) as connection:
        connection.sendall(struct.pack(">i", len(request)) + request)
        (size,) = struct.unpack(">i", _receive(connection, 4))
        answer = _receive(connection, size)
    return _brokers_from(answer)


def _receive(connection: socket.socket, size: int) -> bytes:
    received = bytearray()
    while len(received) < size:
        chunk = connection.recv(size - len(received))
        if not chunk:
            raise ConnectionError("the connection closed before a whole Kafka answer arrived")
        received += chunk
    return bytes(received)


def _brokers_from(answer: bytes) -> list[tuple[str, int]]:
    try:
        correlation_id, count = struct.unpack_from(">ii", answer)
        if correlation_id != _CORRELATION_ID:
            raise ConnectionError(f"not a Kafka answer (correlation id {correlation_id})")
        offset = 8
        brokers: list[tuple[str, int]] = []
        for _ in range(count):
            offset += 4  # node id
            (host_length,) = struct.unpack_from(">h", answer, offset)
            offset += 2
            host = answer[offset : offset + host_length].decode()
            offset += host_length
            (port,) = struct.unpack_from(">i", answer, offset)
            offset += 4
            brokers.append((host, port))
    except (struct.error, UnicodeDecodeError) as garbled:
        raise ConnectionError(f"not a Kafka Metadata answer: {garbled}") from garbled
    return brokers
