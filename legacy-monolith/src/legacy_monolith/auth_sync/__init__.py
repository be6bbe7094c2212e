"""Accounts, while the auth service takes them over: exported, compared, and synced back.

- ``records``: where account records sit in the monolith's tables (``users``), for the
  export and checksum endpoints under ``/internal/auth``.
- ``acl``: the anti-corruption layer: auth's account changes (``UserAccountChanged`` on
  ``strangler.credentials``) written into ``users``, so that a user who registered, changed
  their password or their name at auth is the same user here.
"""
