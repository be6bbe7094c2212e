"""Billing's data, while the billing service takes it over: exported, compared, and synced back.

- ``records``: where billing's records sit in the monolith's tables (the users are the
  customers), for the export and checksum endpoints under ``/internal/billing``.
- ``acl``: the anti-corruption layer: billing's contract events, translated into the
  monolith's tables, so that what customers do at the billing service is in the legacy
  tables too.
"""
