"""DMQServer seen from raw AMQP, plugin registration, and the simulator behind the server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pika
import pytest

from pacsys_dmq.codec import (
    DoubleSample,
    ErrorSample,
    ReadingRequest,
    decode_reply,
    encode_message,
)
from pacsys_dmq.server import DMQServer

pytestmark = pytest.mark.rabbitmq


class RawClient:
    """A hand-rolled DMQ client (opaque token/signature) for poking the server."""

    def __init__(self, url: str) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.exchange = str(uuid.uuid4())
        self.queue = self.channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        self.channel.exchange_declare(self.exchange, exchange_type="topic", auto_delete=True)
        for key in ("R.#", "Q"):
            self.channel.queue_bind(self.queue, self.exchange, key)

    def init(self, body: bytes) -> str:
        message_id = str(uuid.uuid4())
        properties = pika.BasicProperties(
            message_id=message_id,
            reply_to=self.exchange,
            app_id="pacsys",
            headers={
                "gss-token": b"mock_gss_token",
                "signature": b"sig",
                "host-address": b"\x7f\0\0\1",
            },
        )
        self.channel.basic_publish("amq.topic", "I", body, properties)
        return message_id

    def replies(self, count: int, timeout: float = 5.0) -> list[tuple[str, str | None, Any]]:
        out = []
        for method, props, body in self.channel.consume(
            self.queue, auto_ack=True, inactivity_timeout=timeout
        ):
            if method is None:
                break
            if method.routing_key == "Q":
                continue
            out.append((method.routing_key, props.correlation_id, decode_reply(body)))
            if len(out) == count:
                break
        self.channel.cancel()
        return out

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def open_server(
    rabbitmq_vhost: str, amqp_url: Callable[..., Any], seeded_fake: Callable[..., Any]
) -> Iterator[tuple[DMQServer, str]]:
    with DMQServer(seeded_fake(), amqp_url(rabbitmq_vhost)) as server:
        yield server, rabbitmq_vhost


def test_open_mode_accepts_opaque_tokens(
    open_server: tuple[DMQServer, str], amqp_url: Callable[..., Any]
) -> None:
    _, vhost = open_server
    raw = RawClient(amqp_url(vhost))
    try:
        message_id = raw.init(encode_message(ReadingRequest(("M:OUTTMP.READING@I", "M:BAD@@"))))
        replies = raw.replies(3)
    finally:
        raw.close()
    pending, *data = replies
    assert pending[0] == "R" and pending[1] == message_id
    assert isinstance(pending[2], ErrorSample) and pending[2].error_number == 1
    by_key = {key: reply for key, _, reply in data}
    good = by_key["R.M:OUTTMP.READING@I"]
    assert isinstance(good, DoubleSample) and good.value == 72.5 and good.ref_id == 1
    bad = by_key["R.M:BAD@@"]
    assert isinstance(bad, ErrorSample) and (bad.error_number, bad.ref_id) == (-98, 2)


def test_bad_init_body_gets_invalid_request(
    open_server: tuple[DMQServer, str], amqp_url: Callable[..., Any]
) -> None:
    _, vhost = open_server
    raw = RawClient(amqp_url(vhost))
    try:
        message_id = raw.init(b"not SDD at all")
        [(key, correlation, reply)] = raw.replies(1)
    finally:
        raw.close()
    assert (key, correlation) == ("R", message_id)
    assert isinstance(reply, ErrorSample) and (reply.facility_code, reply.error_number) == (72, -98)


def test_address_and_client_env(open_server: tuple[DMQServer, str]) -> None:
    server, vhost = open_server
    assert "guest" not in server.address and server.address.startswith("amqp://127.0.0.1:5672/")
    env = server.client_env()
    assert env == {
        "PACSYS_DMQ_HOST": "127.0.0.1",
        "PACSYS_DMQ_PORT": "5672",
        "PACSYS_DMQ_VHOST": vhost,
    }
    assert not server.wait(0)


def test_client_env_points_pacsys_dmq_at_server(
    open_server: tuple[DMQServer, str], dmq_user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pacsys
    from pacsys.auth import KerberosAuth

    server, _ = open_server
    for name, value in server.client_env().items():
        monkeypatch.setenv(name, value)
    with pacsys.dmq(auth=KerberosAuth(), timeout=5.0) as backend:
        assert type(backend).__name__ == "DMQBackend"
        assert backend.read("M:OUTTMP") == 72.5


def test_plugin_registration() -> None:
    from pacsys.registry import get_registry

    registry = get_registry()
    spec = registry.backend("dmq")
    assert spec.auth_kinds == ("kerberos",) and spec.auth_required
    assert spec.load().__name__ == "DMQBackend"
    server = registry.servers()["dmq"]
    assert (server.option, server.option_kwarg, server.option_type) == (
        "--dmq-url",
        "amqp_url",
        str,
    )
    assert server.load() is DMQServer


def test_simulator_behind_the_server(
    rabbitmq_vhost: str,
    dmq_user: str,
    amqp_url: Callable[..., Any],
    make_backend: Callable[..., Any],
    wait_for: Callable[..., Any],
) -> None:
    sim = pytest.importorskip("pacsys.sim")
    backend = sim.SimBackend()
    try:
        with DMQServer(backend, amqp_url(rabbitmq_vhost)) as server:
            with make_backend(rabbitmq_vhost) as client:
                temp = client.read("M:OUTTMP")
                assert isinstance(temp, float)
                assert client.write("Z:ACLTST", 12.5).ok
                assert client.read("Z:ACLTST.SETTING") == 12.5
                with client.subscribe(["M:OUTTMP@p,100"]) as handle:
                    got: list[Any] = []
                    for reading, _ in handle.readings(timeout=3):
                        got.append(reading)
                        if len(got) == 2:
                            break
                assert len(got) == 2 and all(r.ok for r in got)
            wait_for(lambda: server.job_count == 0)
    finally:
        backend.close()
