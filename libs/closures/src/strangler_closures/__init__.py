"""Closing an account, the accounts side, once for every side that holds accounts.

The monolith and the auth service both play the accounts side of the closure choreography
(``strangler_contracts.events.account_closure``) while accounts move between them; this is
the one mechanism both use:

- ``account_closures_table(metadata)`` adds the table a side keeps its closures in (the
  monolith's ``account_closures`` has the same columns);
- ``fold`` applies a participant's answer to a ``Closure`` — pure, by closure id, so an
  answer heard twice changes nothing — and says whether everyone has now confirmed;
- ``AccountsSide`` is a side's part on its own database: ``request`` (once per account:
  concurrent requests make one closure), ``resume`` (a paused closure asks billing again,
  ``attempt`` + 1), ``apply`` (the answers, in the idempotent consumer's transaction; once
  billing and notifications confirmed, the side's own ``erase`` and ``AccountClosed``), and
  ``answers``/``follow``, the consumer loop. Every event it records carries the closure's
  id as its correlation id.
"""

from strangler_closures.accounts_side import (
    ERASED_NAME,
    ERASED_PASSWORD_HASH,
    AccountsSide,
    Closure,
    ClosureStatus,
    Eraser,
    Forgetter,
    Recorder,
    account_closures_table,
    erased_email,
    fold,
    follow,
)

__all__ = [
    "ERASED_NAME",
    "ERASED_PASSWORD_HASH",
    "AccountsSide",
    "Closure",
    "ClosureStatus",
    "Eraser",
    "Forgetter",
    "Recorder",
    "account_closures_table",
    "erased_email",
    "fold",
    "follow",
]
