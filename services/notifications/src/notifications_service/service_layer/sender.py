"""The mail sender: delivers pending mails from the send ledger, one state change at a time.

Each round takes the oldest due mails (one more attempt each, leased so no other sender
takes them meanwhile), commits that, and only then hands them to SMTP, ``concurrency`` at a
time, recording each outcome in a transaction of its own as soon as it is known: sent;
pending again after a backoff (the server was unreachable, timed out or answered 4xx —
nothing is lost, however long it is away); or dead (a 5xx: the reason is kept and the
causing event goes to the dead-letter topic). See ``domain.mails`` for why a mail goes out
at most once outside one narrow window.

``strangler_notifications_pending_mails`` in ``/metrics`` says how many wait.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Counter, Gauge

from notifications_service.domain.mails import retry_delay
from notifications_service.service_layer.choreography import notification_sent
from notifications_service.service_layer.ports import (
    Clock,
    DueMail,
    Mailer,
    MailNotDelivered,
    MailRefused,
    Stores,
)

__all__ = ["MAILS", "PENDING_MAILS", "MailSender", "SendPolicy"]

logger = logging.getLogger(__name__)

PENDING_MAILS = Gauge(
    "strangler_notifications_pending_mails",
    "Mails recorded but not yet accepted by the SMTP server (nor dead).",
)
MAILS = Counter(
    "strangler_notifications_mails",
    "Mail hand-overs by outcome: sent, retry (not taken this time), dead (refused for good).",
    ["outcome"],
)


@dataclass(frozen=True)
class SendPolicy:
    batch_size: int = 50
    concurrency: int = 1
    """Mails handed over at once (the mailer's connections): at most this many can be
    accepted by the server and not yet recorded when the process dies."""
    poll_seconds: float = 0.2
    lease_seconds: float = 30.0
    retry_first_seconds: float = 1.0
    retry_max_seconds: float = 60.0


class MailSender:
    def __init__(
        self, stores: Stores, mailer: Mailer, clock: Clock, policy: SendPolicy | None = None
    ) -> None:
        self.stores = stores
        self.mailer = mailer
        self.clock = clock
        self.policy = policy or SendPolicy()
        self.wake = asyncio.Event()
        """Set when a mail was recorded: the sender looks at once instead of at its next poll."""

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; a database or SMTP outage only delays mail."""
        while not stop.is_set():
            self.wake.clear()
            sent = await self.send_due()
            await self.count_pending()
            if sent == 0:
                await self._idle(stop)

    async def _idle(self, stop: asyncio.Event) -> None:
        """Until a mail is recorded, the poll interval passes, or the sender is stopped."""
        waits = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(
                waits, timeout=self.policy.poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiting in waits:
                waiting.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    async def send_due(self) -> int:
        """One round: take the due mails and hand each over; answers how many were taken."""
        now = self.clock()
        lease_until = now + timedelta(seconds=self.policy.lease_seconds)
        async with self.stores() as store:
            due = await store.take_due(now, lease_until, self.policy.batch_size)
        lanes = asyncio.Semaphore(self.policy.concurrency)

        async def deliver(mail: DueMail) -> None:
            async with lanes:
                await self._deliver(mail)

        outcomes = await asyncio.gather(*(deliver(mail) for mail in due), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # a database outage: the supervisor restarts the sender
        return len(due)

    async def _deliver(self, mail: DueMail) -> None:
        try:
            await self.mailer.send(mail.mail)
        except MailRefused as refused:
            await self._dead(mail, str(refused))
        except MailNotDelivered as failed:
            await self._retry(mail, str(failed))
        else:
            await self._sent(mail)

    async def count_pending(self) -> int:
        async with self.stores() as store:
            pending = await store.pending_count()
        PENDING_MAILS.set(pending)
        return pending

    async def _sent(self, due: DueMail) -> None:
        now = self.clock()
        async with self.stores() as store:
            notification = await store.mark_sent(due.entry, now)
            await store.publish(notification_sent(notification, now), now)
        MAILS.labels("sent").inc()

    async def _retry(self, due: DueMail, error: str) -> None:
        entry = due.entry
        delay = retry_delay(
            entry.attempts, self.policy.retry_first_seconds, self.policy.retry_max_seconds
        )
        async with self.stores() as store:
            await store.mark_retry(entry, error, self.clock() + delay)
        MAILS.labels("retry").inc()
        logger.warning(
            "mail %s not delivered (attempt %d), next try in %.1fs: %s",
            entry.message_id,
            entry.attempts,
            delay.total_seconds(),
            error,
        )

    async def _dead(self, due: DueMail, error: str) -> None:
        now = self.clock()
        async with self.stores() as store:
            notification = await store.mark_dead(due.entry, error, now)
            await store.publish(notification_sent(notification, now), now)
            await store.dead_letter(due.entry, "smtp-refused", error)
        MAILS.labels("dead").inc()
        logger.error("mail %s refused by the SMTP server: %s", due.entry.message_id, error)
