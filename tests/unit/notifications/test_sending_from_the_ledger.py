"""The sender walks each mail through the ledger: taken, then sent; pending again after a
backoff while the server is away; dead, with its reason and a dead letter, when refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifications_service.domain.mails import retry_delay
from notifications_service.service_layer.choreography import MailChoreography
from notifications_service.service_layer.sender import MailSender
from strangler_contracts import NotificationSent, UserRegistered, encode

from tests.unit.notifications.fakes import FakeMailer, FakeStore, FixedClock


async def register(choreography: MailChoreography, store: FakeStore, who: str) -> None:
    event = UserRegistered(
        user_id=who, email=f"{who}@example.com", display_name=who.title(),
        registered_at=datetime(2026, 12, 1, tzinfo=UTC),
    )  # fmt: skip
    await choreography.apply(store, event, encode(event, source="/legacy-monolith"))


def test_waits_double_from_the_first_up_to_the_most() -> None:
    waits = [retry_delay(attempts, 1.0, 8.0).total_seconds() for attempts in range(1, 7)]

    assert waits == [1, 2, 4, 8, 8, 8]


async def test_a_taken_mail_is_sent_with_its_message_id_and_announced(
    choreography: MailChoreography, store: FakeStore, mailer: FakeMailer, sender: MailSender
) -> None:
    await register(choreography, store, "ada")

    assert await sender.send_due() == 1

    [entry] = store.ledger.values()
    [mail] = mailer.sent
    assert (entry.state, entry.attempts) == ("sent", 1)
    assert mail.message_id == entry.message_id
    [announced] = store.published
    assert isinstance(announced, NotificationSent)
    assert announced.status == "sent"
    assert await sender.send_due() == 0


async def test_while_the_server_is_away_every_mail_waits_longer_and_none_is_lost(
    choreography: MailChoreography,
    store: FakeStore,
    mailer: FakeMailer,
    sender: MailSender,
    clock: FixedClock,
) -> None:
    for who in ("ada", "bob", "cy"):
        await register(choreography, store, who)
    mailer.down = True

    await sender.send_due()
    first_wait = {e.next_attempt_at - clock.now for e in store.ledger.values()}
    clock.advance(1)
    await sender.send_due()
    second_wait = {e.next_attempt_at - clock.now for e in store.ledger.values()}
    assert await sender.count_pending() == 3
    mailer.down = False
    clock.advance(2)
    await sender.send_due()

    assert first_wait == {timedelta(seconds=1)}
    assert second_wait == {timedelta(seconds=2)}
    assert sorted(mail.to for mail in mailer.sent) == [
        "ada@example.com", "bob@example.com", "cy@example.com"
    ]  # fmt: skip
    assert {(e.state, e.attempts) for e in store.ledger.values()} == {("sent", 3)}
    assert await sender.count_pending() == 0


async def test_a_mail_refused_for_good_is_dead_with_its_reason_and_dead_lettered(
    choreography: MailChoreography, store: FakeStore, mailer: FakeMailer, sender: MailSender
) -> None:
    await register(choreography, store, "gone")
    mailer.refusing.add("gone@example.com")

    await sender.send_due()

    [entry] = store.ledger.values()
    notification = store.notifications[entry.notification_id]
    assert entry.state == "dead"
    assert "550" in (entry.last_error or "")
    assert (notification.status, notification.error) == ("failed", entry.last_error)
    [(letter, reason, error)] = store.dead_letters
    assert (letter.event_id, reason, error) == (entry.event_id, "smtp-refused", entry.last_error)
    assert [event.status for event in store.published if isinstance(event, NotificationSent)] == [
        "failed"
    ]


async def test_a_mail_taken_by_a_sender_that_crashed_is_sent_again_after_its_lease(
    choreography: MailChoreography,
    store: FakeStore,
    mailer: FakeMailer,
    sender: MailSender,
    clock: FixedClock,
) -> None:
    await register(choreography, store, "ada")
    now = clock.now
    async with store.stores()() as taken_by_a_crashed_sender:
        await taken_by_a_crashed_sender.take_due(now, now + timedelta(seconds=30), 10)

    assert await sender.send_due() == 0
    clock.advance(30)
    assert await sender.send_due() == 1

    [entry] = store.ledger.values()
    assert (entry.state, entry.attempts) == ("sent", 2)
    assert [mail.message_id for mail in mailer.sent] == [entry.message_id]
