from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

from tests.integration.smtp_sink.conftest import MAX_MESSAGES, Sink


def mail(to: str, subject: str, text: str = "Hello!\n", **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Shop <shop@example.com>"
    message["To"] = to
    message["Subject"] = subject
    for name, value in headers.items():
        message[name] = value
    message.set_content(text)
    return message


def address() -> str:
    return f"customer-{uuid.uuid4().hex[:8]}@example.com"


async def listed(sink: Sink, **params: Any) -> dict[str, Any]:
    response = await sink.http.get("/messages", params=params)
    assert response.status_code == 200
    page: dict[str, Any] = response.json()
    return page


async def test_sent_mail_can_be_read_back_over_http(sink: Sink) -> None:
    to = address()
    await sink.send(mail(to, "Your invoice", "Please pay 19.99 EUR.\n"))

    [item] = (await listed(sink))["items"]
    fetched = (await sink.http.get(f"/messages/{item['id']}")).json()

    assert fetched == item
    assert item["rcpt_tos"] == [to]
    assert item["to"] == to
    assert item["mail_from"] == "shop@example.com"
    assert item["from"] == "Shop <shop@example.com>"
    assert item["subject"] == "Your invoice"
    assert item["text"] == "Please pay 19.99 EUR.\n"
    assert item["received_at"]


async def test_plain_text_is_taken_from_a_multipart_mail(sink: Sink) -> None:
    message = mail(address(), "Grüße aus Köln", "Plain grüße\n")
    message.add_alternative("<p>HTML grüße</p>", subtype="html")
    await sink.send(message)

    [item] = (await listed(sink))["items"]

    assert item["subject"] == "Grüße aus Köln"
    assert item["text"] == "Plain grüße\n"


async def test_messages_are_listed_newest_first_and_by_recipient(sink: Sink) -> None:
    alice, bob = address(), address()
    for to, subject in [(alice, "first"), (bob, "second"), (alice, "third")]:
        await sink.send(mail(to, subject))

    everyone = await listed(sink)
    for_alice = await listed(sink, to=alice.upper())
    second_page = await listed(sink, limit=1, offset=1)

    assert [item["subject"] for item in everyone["items"]] == ["third", "second", "first"]
    assert [item["subject"] for item in for_alice["items"]] == ["third", "first"]
    assert for_alice["total"] == 2
    assert [item["subject"] for item in second_page["items"]] == ["second"]


async def test_oldest_messages_are_dropped_beyond_the_limit(sink: Sink) -> None:
    to = address()
    for number in range(MAX_MESSAGES + 2):
        await sink.send(mail(to, f"mail {number}"))

    page = await listed(sink)

    assert page["total"] == MAX_MESSAGES
    assert page["items"][-1]["subject"] == "mail 2"


async def test_deleting_messages_clears_the_sink(sink: Sink) -> None:
    await sink.send(mail(address(), "to be forgotten"))

    response = await sink.http.delete("/messages")

    assert response.status_code == 204
    assert (await listed(sink))["total"] == 0


async def test_unknown_message_is_not_found(sink: Sink) -> None:
    response = await sink.http.get("/messages/nope")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_sink_is_ready_while_smtp_accepts(sink: Sink) -> None:
    response = await sink.http.get("/health/ready")

    assert response.status_code == 200
    assert response.json()["checks"] == {"smtp": "ok"}
