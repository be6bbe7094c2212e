"""The composition root: the one place notifications' adapters are chosen and built.

``bootstrap_process`` builds everything the HTTP process holds while it runs
(``NotificationsProcess``): the database engine, the stores on it, the user's API
(``Notifications``), what turns events into mail (``MailChoreography``), the mail sender
with its SMTP mailer and the one token verifier its routes use. Tests give a mailer, a
sending switch or a clock of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from http_platform.operator import operator_headers
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_contracts.notification_records import NOTIFICATION_RECORDS
from strangler_eventing import BrokerConfig
from strangler_migration import (
    Backfill,
    ExportSource,
    HttpExportSource,
    Side,
    SqlRecords,
    SyncConsumer,
    upsert_sink,
)
from strangler_persistence import SessionFactory, create_engine, create_session_factory, utcnow
from strangler_tokens import JwksKeys, LegacyIssuer, TokenVerifier

from notifications_service.adapters.records import BINDINGS
from notifications_service.adapters.sending_switch import MailFlagSwitch, SettingSwitch
from notifications_service.adapters.smtp import SmtpMailer
from notifications_service.adapters.store import sql_stores
from notifications_service.adapters.tables import checkpoints, inbox
from notifications_service.domain.mails import ORIGIN
from notifications_service.service_layer.choreography import MailChoreography
from notifications_service.service_layer.notifications import Notifications
from notifications_service.service_layer.ports import Clock, Mailer, SendingSwitch, Stores
from notifications_service.service_layer.sender import MailSender, SendPolicy
from notifications_service.settings import NotificationsSettings

__all__ = [
    "MIGRATION",
    "SERVICE_NAME",
    "NotificationsProcess",
    "bootstrap_process",
    "broker_config",
    "legacy_changes",
    "smtp_mailer",
    "token_verifier",
]

SERVICE_NAME = "notifications"
MIGRATION = NOTIFICATION_RECORDS.capability


def broker_config(settings: NotificationsSettings) -> BrokerConfig:
    return BrokerConfig(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        kind=settings.kafka_kind,
        client_id=SERVICE_NAME,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
    )


def smtp_mailer(settings: NotificationsSettings) -> SmtpMailer:
    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        settings.mail_sender,
        settings.smtp_timeout_seconds,
        settings.smtp_connections,
    )


def send_policy(settings: NotificationsSettings) -> SendPolicy:
    return SendPolicy(
        batch_size=settings.send_batch_size,
        concurrency=settings.smtp_connections,
        poll_seconds=settings.send_poll_seconds,
        lease_seconds=settings.send_lease_seconds,
        retry_first_seconds=settings.retry_first_seconds,
        retry_max_seconds=settings.retry_max_seconds,
    )


def legacy_changes(broker: BrokerConfig, group: str, sessions: SessionFactory) -> SyncConsumer:
    """The consumer of ``strangler.notifications`` that applies the monolith's history and
    preferences here (its own changes are skipped: ``Side``)."""
    return SyncConsumer(
        Side(ORIGIN),
        NOTIFICATION_RECORDS,
        BINDINGS,
        group=group,
        broker=broker,
        sessions=sessions,
        inbox=inbox,
    )


def sending_switch(settings: NotificationsSettings) -> SendingSwitch:
    if settings.sending == "flag":
        return MailFlagSwitch()
    return SettingSwitch(settings.sending == "on")


def token_verifier(settings: NotificationsSettings) -> TokenVerifier:
    """Trusts the monolith's tokens and, once ``auth_jwks_url`` is set, the auth service's."""
    return TokenVerifier(
        JwksKeys(settings.auth_jwks_url) if settings.auth_jwks_url else None,
        issuer=settings.auth_issuer,
        legacy=LegacyIssuer(settings.jwt_secret.get_secret_value(), settings.jwt_issuer),
    )


@dataclass
class NotificationsProcess:
    """What notifications' HTTP process holds while it runs."""

    settings: NotificationsSettings
    engine: AsyncEngine
    sessions: SessionFactory
    stores: Stores
    notifications: Notifications
    choreography: MailChoreography
    sender: MailSender
    mailer: Mailer
    records: SqlRecords
    """History and preferences held here, for the reconciliation (``/internal/notifications``)."""
    legacy_backfill: Backfill
    """The backfill from the monolith's export (``/internal/migration/notifications``)."""
    legacy_sync: SyncConsumer | None
    """The consumer applying the monolith's history and preferences; None when it is off."""
    tokens: TokenVerifier
    """Who a bearer token names: built once, it keeps the auth service's keys between requests."""
    _owned_export: HttpExportSource | None = None

    async def aclose(self) -> None:
        if self._owned_export is not None:
            await self._owned_export.aclose()
        await self.mailer.aclose()
        await self.tokens.aclose()
        await self.engine.dispose()


def bootstrap_process(
    settings: NotificationsSettings,
    *,
    mailer: Mailer | None = None,
    switch: SendingSwitch | None = None,
    clock: Clock = utcnow,
    legacy_export: ExportSource | None = None,
) -> NotificationsProcess:
    """Everything on real adapters, but for what a test gives (``legacy_export``: the client
    of the monolith's export, which is sent the operator token). Connects to nothing yet."""
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    stores = sql_stores(sessions)
    resolved_mailer = mailer or smtp_mailer(settings)
    owned_export = None
    if legacy_export is None:
        legacy_export = owned_export = HttpExportSource(
            f"{settings.monolith_url}/internal/{MIGRATION}",
            headers=operator_headers(settings.operator_token.get_secret_value()),
        )
    return NotificationsProcess(
        settings=settings,
        engine=engine,
        sessions=sessions,
        stores=stores,
        notifications=Notifications(stores, clock),
        choreography=MailChoreography(
            switch or sending_switch(settings), clock, settings.message_id_domain
        ),
        sender=MailSender(stores, resolved_mailer, clock, send_policy(settings)),
        mailer=resolved_mailer,
        records=SqlRecords(engine, BINDINGS),
        legacy_backfill=Backfill(
            migration=MIGRATION,
            entities=NOTIFICATION_RECORDS.entities,
            source=legacy_export,
            sink=upsert_sink(BINDINGS, NOTIFICATION_RECORDS.precedence),
            sessions=sessions,
            checkpoints=checkpoints,
            page_size=settings.backfill_page_size,
        ),
        legacy_sync=legacy_changes(broker_config(settings), settings.legacy_sync_group, sessions)
        if settings.legacy_sync_enabled
        else None,
        tokens=token_verifier(settings),
        _owned_export=owned_export,
    )
