"""The monolith's mailer against the real sink: internationalised addresses arrive (SMTPUTF8),
and a Subject built from user text stays one header line."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from legacy_monolith.notifications.mailer import MailDeliveryFailed, OutgoingMail, SmtpMailer

from tests.integration.smtp_sink.conftest import Sink

SENDER = "Strangler Fig <no-reply@strangler-fig.test>"


def mailer(sink: Sink) -> SmtpMailer:
    return SmtpMailer("127.0.0.1", sink.smtp_port, SENDER, timeout_seconds=5)


async def caught(sink: Sink) -> list[dict[str, Any]]:
    response = await sink.http.get("/messages")
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.mark.parametrize(
    ("address", "envelope"),
    [
        ("josé.{tag}@example.com", "josé.{tag}@example.com"),
        ("用户{tag}@例子.测试", "用户{tag}@例子.测试"),
        ("ada.{tag}@bücher.example", "ada.{tag}@xn--bcher-kva.example"),
    ],
)
async def test_mail_to_an_internationalised_address_is_delivered(
    sink: Sink, address: str, envelope: str
) -> None:
    tag = uuid.uuid4().hex[:6]

    await mailer(sink).send(OutgoingMail(address.format(tag=tag), "Welcome", "Hello!\n"))

    [message] = await caught(sink)
    assert message["rcpt_tos"] == [envelope.format(tag=tag)]
    assert message["subject"] == "Welcome"


@pytest.mark.parametrize("line_break", ["\n", "\r\n", "\r", "\u2028", "\u0085", "\x0b"])
async def test_a_line_break_in_the_subject_never_splits_the_header(
    sink: Sink, line_break: str
) -> None:
    subject = f"Welcome, Mallory{line_break}Bcc: victim@example.com"

    await mailer(sink).send(OutgoingMail("mallory@example.com", subject, "Hello!\n"))

    [message] = await caught(sink)
    assert message["subject"] == "Welcome, Mallory Bcc: victim@example.com"
    assert message["rcpt_tos"] == ["mallory@example.com"]


async def test_a_recipient_that_cannot_be_written_is_a_failed_delivery(sink: Sink) -> None:
    with pytest.raises(MailDeliveryFailed):
        await mailer(sink).send(OutgoingMail("someone@\nexample.com", "Welcome", "Hello!\n"))

    assert await caught(sink) == []
