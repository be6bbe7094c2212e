"""The composition root: the one place auth's adapters are chosen and built.

- ``bootstrap``: the service layer (``Accounts`` and the ``SigningKeyring``) on a database,
  or on the fakes a test gives; what the CLI and unit tests use.
- ``bootstrap_process``: everything the HTTP process holds while it runs (``AuthProcess``):
  the engine, the service layer, and the ``TokenVerifier`` that checks bearer tokens here
  exactly as every other side does (``strangler_tokens``): auth's own tokens against the key
  set it publishes, the monolith's HS256 tokens with its secret while the bridge lasts; and
  the data migration's pieces (``AccountMigration``: auth's account records, the backfill
  from the monolith's export, the sync of the monolith's account changes), and the accounts
  side of closing an account (``strangler_closures.AccountsSide``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import httpx
from http_platform.operator import operator_headers
from sqlalchemy.ext.asyncio import AsyncEngine
from strangler_closures import AccountsSide
from strangler_contracts.user_records import USER_RECORDS
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

from auth_service.adapters.closures import accounts_side
from auth_service.adapters.orm import checkpoints, inbox, start_mappers
from auth_service.adapters.passwords import PasswordHashes
from auth_service.adapters.records import BINDINGS
from auth_service.adapters.signing import Ed25519AccessTokens, new_signing_key
from auth_service.adapters.unit_of_work import SqlAlchemyUnitOfWork
from auth_service.service_layer.accounts import Accounts, LoginPolicy
from auth_service.service_layer.keys import KeyFactory, SigningKeyring
from auth_service.service_layer.ports import Clock, PasswordHashing
from auth_service.service_layer.unit_of_work import UnitOfWorkFactory
from auth_service.settings import AuthSettings

__all__ = [
    "JWKS_PATH",
    "SERVICE_NAME",
    "TOKEN_LEEWAY_SECONDS",
    "AccountMigration",
    "AuthProcess",
    "Bootstrapped",
    "account_migration",
    "bootstrap",
    "bootstrap_process",
    "broker_config",
]

SERVICE_NAME: Final = "auth"
JWKS_PATH: Final = "/.well-known/jwks.json"
TOKEN_LEEWAY_SECONDS: Final = 5.0
"""The clock skew a verifier allows (``strangler_tokens.TokenVerifier``'s default): a retired
key stays published this much longer than its last token's lifetime."""
OWN_KEYS_REFETCH_SECONDS: Final = 1.0


@dataclass
class Bootstrapped:
    accounts: Accounts
    keyring: SigningKeyring


def bootstrap(
    settings: AuthSettings,
    sessions: SessionFactory | None = None,
    *,
    unit_of_work: UnitOfWorkFactory | None = None,
    passwords: PasswordHashing | None = None,
    new_key: KeyFactory = new_signing_key,
    clock: Clock = utcnow,
) -> Bootstrapped:
    """The service layer on the database behind ``sessions``, or on ``unit_of_work`` (a
    fake). Connects to nothing: sessions open when a unit of work starts."""
    if unit_of_work is None:
        if sessions is None:
            raise ValueError("bootstrap needs the database's sessions or a unit_of_work")
        start_mappers()
        database = sessions

        def unit_of_work() -> SqlAlchemyUnitOfWork:
            return SqlAlchemyUnitOfWork(database)

    access_ttl = timedelta(seconds=settings.access_token_ttl_seconds)
    keyring = SigningKeyring(
        unit_of_work,
        new_key,
        clock,
        longest_token=access_ttl + timedelta(seconds=TOKEN_LEEWAY_SECONDS),
        cache_seconds=settings.key_cache_seconds,
    )
    accounts = Accounts(
        unit_of_work=unit_of_work,
        passwords=passwords or PasswordHashes(),
        tokens=Ed25519AccessTokens(
            keyring, issuer=settings.issuer, audience=settings.audience, ttl=access_ttl
        ),
        clock=clock,
        policy=LoginPolicy(
            account_failures=settings.login_account_failures,
            address_failures=settings.login_address_failures,
            window=timedelta(seconds=settings.login_window_seconds),
            refresh_token_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
            hash_concurrency=settings.password_hash_concurrency,
        ),
    )
    return Bootstrapped(accounts=accounts, keyring=keyring)


def token_verifier(settings: AuthSettings, jwks: httpx.AsyncClient) -> TokenVerifier:
    """Auth's tokens checked against the key set auth publishes (read with ``jwks``, a client
    into the app itself, in process), the monolith's with its secret when one is configured."""
    legacy = settings.legacy_jwt_secret
    return TokenVerifier(
        JwksKeys(
            f"http://{SERVICE_NAME}{JWKS_PATH}",
            client=jwks,
            min_refetch_seconds=OWN_KEYS_REFETCH_SECONDS,
        ),
        issuer=settings.issuer,
        audience=settings.audience,
        legacy=None
        if legacy is None
        else LegacyIssuer(legacy.get_secret_value(), settings.legacy_jwt_issuer),
        leeway_seconds=TOKEN_LEEWAY_SECONDS,
    )


def broker_config(settings: AuthSettings) -> BrokerConfig:
    return BrokerConfig(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        kind=settings.kafka_kind,
        client_id=SERVICE_NAME,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
    )


@dataclass
class AccountMigration:
    """Auth's side of moving accounts from the monolith (``entrypoints/migration.py``)."""

    records: SqlRecords
    """Auth's account records, for the reconciliation (``/internal/auth``)."""
    backfill: Backfill
    """The backfill from the monolith's export (``/internal/migration/auth``)."""
    sync: SyncConsumer | None
    """The consumer applying the monolith's account changes here; None when it is off."""
    _owned_export: HttpExportSource | None = None

    async def aclose(self) -> None:
        if self._owned_export is not None:
            await self._owned_export.aclose()


def account_migration(
    settings: AuthSettings,
    engine: AsyncEngine,
    sessions: SessionFactory,
    legacy_export: ExportSource | None = None,
) -> AccountMigration:
    """The records, the backfill (from ``legacy_export``, by default the monolith's export
    over HTTP with the operator token) and, when on, the sync."""
    owned = None
    if legacy_export is None:
        legacy_export = owned = HttpExportSource(
            f"{settings.monolith_url}/internal/{USER_RECORDS.capability}",
            headers=operator_headers(settings.operator_token.get_secret_value()),
        )
    sync = SyncConsumer(
        Side(SERVICE_NAME),
        USER_RECORDS,
        BINDINGS,
        group=settings.legacy_sync_group,
        broker=broker_config(settings),
        sessions=sessions,
        inbox=inbox,
    )
    return AccountMigration(
        records=SqlRecords(engine, BINDINGS),
        backfill=Backfill(
            migration=USER_RECORDS.capability,
            entities=USER_RECORDS.entities,
            source=legacy_export,
            sink=upsert_sink(BINDINGS, USER_RECORDS.precedence),
            sessions=sessions,
            checkpoints=checkpoints,
            page_size=settings.backfill_page_size,
        ),
        sync=sync if settings.legacy_sync_enabled else None,
        _owned_export=owned,
    )


@dataclass
class AuthProcess:
    """What auth's HTTP process holds while it runs."""

    settings: AuthSettings
    engine: AsyncEngine
    sessions: SessionFactory
    accounts: Accounts
    keyring: SigningKeyring
    verifier: TokenVerifier
    migration: AccountMigration
    closures: AccountsSide
    """The accounts side of closing an account (``entrypoints/closure.py``)."""
    _jwks_client: httpx.AsyncClient

    async def aclose(self) -> None:
        await self.migration.aclose()
        await self.verifier.aclose()
        await self._jwks_client.aclose()
        await self.engine.dispose()


def bootstrap_process(
    settings: AuthSettings,
    *,
    jwks: httpx.AsyncBaseTransport,
    passwords: PasswordHashing | None = None,
    clock: Clock = utcnow,
    legacy_export: ExportSource | None = None,
) -> AuthProcess:
    """Everything on real adapters; ``jwks`` reaches the app's own key set (the app, through
    ``httpx.ASGITransport``); tests may give the client of the monolith's export."""
    jwks_client = httpx.AsyncClient(transport=jwks)
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    service = bootstrap(settings, sessions, passwords=passwords, clock=clock)
    return AuthProcess(
        settings=settings,
        engine=engine,
        sessions=sessions,
        accounts=service.accounts,
        keyring=service.keyring,
        verifier=token_verifier(settings, jwks_client),
        migration=account_migration(settings, engine, sessions, legacy_export),
        closures=accounts_side(clock),
        _jwks_client=jwks_client,
    )
