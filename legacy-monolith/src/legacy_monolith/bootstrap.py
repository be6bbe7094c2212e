"""The monolith's composition root: the one place its adapters are chosen and built.

``build_runtime`` builds real adapters by default; tests pass fakes for the payment provider
and the mailer. It connects to nothing: the engine opens connections on first use, the
provider's client on its first request, the billing ACL's consumer when its loop runs.
"""

from __future__ import annotations

from strangler_eventing import BrokerConfig
from strangler_flags import GatewayFlagPoller
from strangler_identity import PasswordHashing
from strangler_migration import SqlRecords

from legacy_monolith.auth_bridge import auth_bridge
from legacy_monolith.auth_sync.acl import auth_changes
from legacy_monolith.auth_sync.records import BINDINGS as ACCOUNT_RECORDS
from legacy_monolith.billing.payment_provider import HttpPaymentProvider, PaymentProvider
from legacy_monolith.billing_sync.acl import billing_changes
from legacy_monolith.billing_sync.records import BINDINGS as BILLING_RECORDS
from legacy_monolith.database import create_engine, create_session_factory
from legacy_monolith.notifications.mail_flag import MailFlag
from legacy_monolith.notifications.mailer import Mailer, SmtpMailer
from legacy_monolith.notifications_sync.acl import notification_changes
from legacy_monolith.notifications_sync.records import BINDINGS as NOTIFICATION_RECORDS
from legacy_monolith.runtime import Runtime
from legacy_monolith.security import TokenIssuer
from legacy_monolith.settings import MonolithSettings

__all__ = ["SERVICE_NAME", "broker_config", "build_runtime", "mail_flag_poller"]

SERVICE_NAME = "legacy-monolith"


def broker_config(settings: MonolithSettings) -> BrokerConfig:
    return BrokerConfig(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        kind=settings.kafka_kind,
        client_id=SERVICE_NAME,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
    )


def mail_flag_poller(settings: MonolithSettings) -> GatewayFlagPoller | None:
    """Follows the gateway's flags for the ``mail`` flag, when there is a gateway to ask."""
    if settings.mail_flag_url is None:
        return None
    return GatewayFlagPoller(
        settings.mail_flag_url,
        settings.operator_token.get_secret_value(),
        poll_seconds=settings.mail_flag_poll_seconds,
        actor=SERVICE_NAME,
    )


def build_runtime(
    settings: MonolithSettings,
    *,
    payments: PaymentProvider | None = None,
    mailer: Mailer | None = None,
    mail_flag: MailFlag | None = None,
) -> Runtime:
    """Real adapters by default; tests pass fakes for the provider and the mailer, and a
    mail flag of their own."""
    engine = create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        pool_overflow=settings.database_pool_overflow,
        pool_timeout_seconds=settings.database_pool_timeout_seconds,
    )
    sessions = create_session_factory(engine)
    poller = mail_flag_poller(settings)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        tokens=TokenIssuer(
            settings.jwt_secret.get_secret_value(),
            settings.jwt_issuer,
            settings.access_token_ttl_seconds,
        ),
        auth_bridge=auth_bridge(settings),
        passwords=PasswordHashing(),
        payments=payments
        or HttpPaymentProvider(settings.payment_provider_url, settings.payment_timeout_seconds),
        mailer=mailer
        or SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_sender,
            settings.smtp_timeout_seconds,
        ),
        billing_records=SqlRecords(engine, BILLING_RECORDS),
        billing_sync=billing_changes(broker_config(settings), settings.billing_sync_group, sessions)
        if settings.billing_sync_enabled
        else None,
        auth_records=SqlRecords(engine, ACCOUNT_RECORDS),
        auth_sync=auth_changes(broker_config(settings), settings.auth_sync_group, sessions)
        if settings.auth_sync_enabled
        else None,
        notification_records=SqlRecords(engine, NOTIFICATION_RECORDS),
        notifications_sync=notification_changes(
            broker_config(settings), settings.notifications_sync_group, sessions
        )
        if settings.notifications_sync_enabled
        else None,
        mail_flag=mail_flag or MailFlag(poller.current if poller else lambda: None),
        mail_flag_poller=None if mail_flag else poller,
    )
