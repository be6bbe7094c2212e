"""The composition root: the one place billing's adapters are chosen and built.

- ``bootstrap``: the service layer (``Billing``) with real adapters, or with the fakes a test
  gives; what the CLI and unit tests use.
- ``bootstrap_process``: everything the HTTP process holds while it runs (``BillingProcess``):
  the database engine, ``Billing`` on it, and the data migration's pieces (billing's records
  for reconciliation, the backfill from the monolith's export, the sync of the monolith's
  changes) and the one token verifier its routes use. The app holds it and its routes read it
  (``http_platform.service_app``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

from http_platform.operator import operator_headers
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_contracts.records import BILLING_RECORDS
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
from strangler_persistence import (
    SessionFactory,
    create_engine,
    create_session_factory,
    utcnow,
)
from strangler_sagas import (
    ChoreographyLog,
    ChoreographyViews,
    InMemorySagaStore,
    OrchestratorSettings,
    SagaOrchestrator,
    SagaStore,
    SqlSagaStore,
)
from strangler_tokens import JwksKeys, LegacyIssuer, TokenVerifier

from billing_service.adapters import views
from billing_service.adapters.closure_announcements import (
    OutboxClosureAnnouncer,
    RecordedClosureAnnouncements,
)
from billing_service.adapters.orm import checkpoints, choreography_events, inbox, start_mappers
from billing_service.adapters.orm import sagas as saga_tables
from billing_service.adapters.payment_simulator import PaymentSimulatorClient
from billing_service.adapters.records import BINDINGS
from billing_service.adapters.unit_of_work import JoinedUnitOfWork, SqlAlchemyUnitOfWork
from billing_service.domain.records import BILLING
from billing_service.service_layer.account_closure import (
    ClosureAnnouncer,
    ClosurePolicy,
    ClosureSteps,
    account_closure_saga,
)
from billing_service.service_layer.billing import Billing
from billing_service.service_layer.checkout import (
    CheckoutPolicy,
    CheckoutStandingReader,
    CheckoutSteps,
    checkout_saga,
)
from billing_service.service_layer.choreographies import account_closure_choreography
from billing_service.service_layer.handlers import Clock, PaymentPolicy
from billing_service.service_layer.payment_provider import PaymentProvider
from billing_service.service_layer.unit_of_work import JoinedUnitOfWorkFactory, UnitOfWorkFactory
from billing_service.settings import BillingSettings

__all__ = [
    "MIGRATION",
    "SERVICE_NAME",
    "BillingProcess",
    "bootstrap",
    "bootstrap_process",
    "broker_config",
    "legacy_changes",
    "token_verifier",
]

SERVICE_NAME = "billing"
MIGRATION = "billing"


def bootstrap(
    settings: BillingSettings,
    sessions: SessionFactory | None = None,
    *,
    unit_of_work: UnitOfWorkFactory | None = None,
    payments: PaymentProvider | None = None,
    clock: Clock = utcnow,
    saga_store: SagaStore | None = None,
    announcer: ClosureAnnouncer | None = None,
) -> Billing:
    """Billing on the database behind ``sessions``, or on ``unit_of_work`` (a fake) instead.

    Sagas are kept next to billing's tables, or in ``saga_store`` (in memory, when billing
    runs on a fake unit of work and none is given); so are the outcomes of account closures
    (the outbox, or ``announcer``). Connects to nothing: sessions open when a unit of work
    starts, the provider's client on its first request.
    """
    joined: JoinedUnitOfWorkFactory | None = None
    if unit_of_work is None:
        if sessions is None:
            raise ValueError("bootstrap needs the database's sessions or a unit_of_work")
        start_mappers()
        database = sessions

        def unit_of_work() -> SqlAlchemyUnitOfWork:
            return SqlAlchemyUnitOfWork(database)

        joined = JoinedUnitOfWork  # in a saga step's transaction: the store's, on `sessions`

    provider = payments or PaymentSimulatorClient(
        settings.payment_provider_url, settings.payment_timeout_seconds
    )
    if saga_store is None:
        saga_store = (
            SqlSagaStore(sessions, saga_tables) if sessions is not None else InMemorySagaStore()
        )
    checkout = CheckoutPolicy(
        provider_timeout=timedelta(seconds=settings.checkout_payment_timeout_seconds),
        refund_timeout=timedelta(seconds=settings.payment_timeout_seconds),
        charge_attempts=settings.checkout_charge_attempts,
        compensation_attempts=settings.checkout_compensation_attempts,
        first_retry_seconds=settings.checkout_retry_seconds,
    )
    if announcer is None:
        announcer = (
            OutboxClosureAnnouncer(sessions)
            if sessions is not None
            else RecordedClosureAnnouncements()
        )
    closure = ClosurePolicy(
        refund_timeout=timedelta(seconds=settings.payment_timeout_seconds),
        first_retry_seconds=settings.checkout_retry_seconds,
    )
    sagas = SagaOrchestrator(
        saga_store,
        [
            checkout_saga(
                CheckoutSteps(unit_of_work, provider, clock, checkout, joined=joined), checkout
            ),
            account_closure_saga(ClosureSteps(unit_of_work, provider, clock, announcer), closure),
        ],
        settings=OrchestratorSettings(
            poll_seconds=settings.saga_poll_seconds,
            lease_seconds=settings.saga_lease_seconds,
            max_concurrent=settings.saga_max_concurrent,
        ),
        clock=clock,
    )
    return Billing(
        unit_of_work=unit_of_work,
        payments=provider,
        clock=clock,
        payment_policy=PaymentPolicy(timedelta(seconds=settings.payment_timeout_seconds)),
        sagas=sagas,
        checkout_standing=_standing_reader(sessions) if joined is not None else None,
    )


def _standing_reader(sessions: SessionFactory | None) -> CheckoutStandingReader | None:
    """A checkout's checks on the query side of billing's database (``adapters/views``)."""
    engine = sessions.kw.get("bind") if sessions is not None else None
    if not isinstance(engine, AsyncEngine):
        return None
    return functools.partial(views.checkout_standing, engine)


def broker_config(settings: BillingSettings) -> BrokerConfig:
    return BrokerConfig(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        kind=settings.kafka_kind,
        client_id=SERVICE_NAME,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
    )


def legacy_changes(broker: BrokerConfig, group: str, sessions: SessionFactory) -> SyncConsumer:
    """The consumer of ``strangler.billing`` that applies the monolith's changes here."""
    return SyncConsumer(
        Side(BILLING),
        BILLING_RECORDS,
        BINDINGS,
        group=group,
        broker=broker,
        sessions=sessions,
        inbox=inbox,
    )


def token_verifier(settings: BillingSettings) -> TokenVerifier:
    """Trusts the monolith's tokens and, once ``auth_jwks_url`` is set, the auth service's."""
    return TokenVerifier(
        JwksKeys(settings.auth_jwks_url) if settings.auth_jwks_url else None,
        issuer=settings.auth_issuer,
        legacy=LegacyIssuer(settings.jwt_secret.get_secret_value(), settings.jwt_issuer),
    )


@dataclass
class BillingProcess:
    """What billing's HTTP process holds while it runs."""

    settings: BillingSettings
    engine: AsyncEngine
    sessions: SessionFactory
    billing: Billing
    records: SqlRecords
    """Billing's records, for the reconciliation (``/internal/billing``)."""
    legacy_backfill: Backfill
    """The backfill from the monolith's export (``/internal/migration/billing``)."""
    legacy_sync: SyncConsumer | None
    """The consumer applying the monolith's billing changes; None when it is off."""
    choreography_log: ChoreographyLog
    """The events of account closures billing has seen (its choreography consumer writes)."""
    choreographies: ChoreographyViews
    """Where each account closure stands (``/internal/choreographies``)."""
    tokens: TokenVerifier
    """Who a bearer token names: built once, it keeps the auth service's keys between requests."""
    _owned_export: HttpExportSource | None = None

    async def aclose(self) -> None:
        if self._owned_export is not None:
            await self._owned_export.aclose()
        await self.billing.aclose()
        await self.tokens.aclose()
        await self.engine.dispose()


def bootstrap_process(
    settings: BillingSettings,
    *,
    payments: PaymentProvider | None = None,
    clock: Clock = utcnow,
    legacy_export: ExportSource | None = None,
) -> BillingProcess:
    """Everything on real adapters; ``payments`` and ``legacy_export`` (the client of the
    monolith's export, which is sent the operator token) may be given by tests."""
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    owned_export = None
    if legacy_export is None:
        legacy_export = owned_export = HttpExportSource(
            f"{settings.monolith_url}/internal/billing",
            headers=operator_headers(settings.operator_token.get_secret_value()),
        )
    choreography_log = ChoreographyLog(sessions, choreography_events)
    return BillingProcess(
        settings=settings,
        engine=engine,
        sessions=sessions,
        billing=bootstrap(settings, sessions, payments=payments, clock=clock),
        records=SqlRecords(engine, BINDINGS),
        legacy_backfill=Backfill(
            migration=MIGRATION,
            entities=BILLING_RECORDS.entities,
            source=legacy_export,
            sink=upsert_sink(BINDINGS, BILLING_RECORDS.precedence),
            sessions=sessions,
            checkpoints=checkpoints,
            page_size=settings.backfill_page_size,
        ),
        legacy_sync=legacy_changes(broker_config(settings), settings.legacy_sync_group, sessions)
        if settings.legacy_sync_enabled
        else None,
        tokens=token_verifier(settings),
        choreography_log=choreography_log,
        choreographies=ChoreographyViews(
            choreography_log,
            [account_closure_choreography(settings.closure_participant_deadline_seconds)],
            clock,
        ),
        _owned_export=owned_export,
    )
