"""The sink says which mails arrived more than once (by Message-ID), and refuses mail to its
refused domain for good, as a real server refuses an unknown mailbox."""

from __future__ import annotations

import smtplib
import uuid

import pytest

from tests.integration.smtp_sink.conftest import MAX_MESSAGES, Sink
from tests.integration.smtp_sink.test_catching_mail import address, listed, mail


def message_id() -> str:
    return f"<{uuid.uuid4().hex}@sender.example>"


async def test_a_mail_delivered_twice_is_listed_as_a_duplicate_with_its_copies(sink: Sink) -> None:
    repeated, single = message_id(), message_id()
    await sink.send(mail(address(), "Invoice", **{"Message-ID": repeated}))
    await sink.send(mail(address(), "Welcome", **{"Message-ID": single}))
    await sink.send(mail(address(), "Invoice", **{"Message-ID": repeated}))

    duplicates = (await sink.http.get("/messages/duplicates")).json()
    page = await listed(sink, message_id=repeated)

    assert [(d["message_id"], d["copies"]) for d in duplicates] == [(repeated, 2)]
    assert page["total"] == 2
    assert {item["copies"] for item in page["items"]} == {2}
    assert (await listed(sink, message_id=single))["items"][0]["copies"] == 1


async def test_repeats_are_counted_after_the_first_copy_was_dropped(sink: Sink) -> None:
    repeated = message_id()
    await sink.send(mail(address(), "First", **{"Message-ID": repeated}))
    for _ in range(MAX_MESSAGES):
        await sink.send(mail(address(), "Filler", **{"Message-ID": message_id()}))
    await sink.send(mail(address(), "First again", **{"Message-ID": repeated}))

    duplicates = (await sink.http.get("/messages/duplicates")).json()

    assert [(d["message_id"], d["copies"]) for d in duplicates] == [(repeated, 2)]


async def test_emptying_the_sink_forgets_the_repeats(sink: Sink) -> None:
    repeated = message_id()
    for _ in range(2):
        await sink.send(mail(address(), "Twice", **{"Message-ID": repeated}))

    await sink.http.delete("/messages")

    assert (await sink.http.get("/messages/duplicates")).json() == []


async def test_mail_to_the_refused_domain_is_refused_for_good(sink: Sink) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await sink.send(mail(f"nobody-{uuid.uuid4().hex[:6]}@refused.example", "Bounce"))

    [(code, _)] = refused.value.recipients.values()
    assert code == 550
    assert (await listed(sink))["total"] == 0
