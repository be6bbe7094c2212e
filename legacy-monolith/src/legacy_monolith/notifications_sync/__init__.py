"""Notifications' data, while the notifications service takes it over: exported, compared, and
synced back.

- ``records``: where the history and preferences sit in the monolith's tables, for the export
  and checksum endpoints under ``/internal/notifications``.
- ``acl``: the anti-corruption layer: the service's history and preferences (its
  ``NotificationSent`` and ``NotificationPreferencesChanged``), written into the monolith's
  tables, so that a mail the service sent is in the monolith's list too.
"""
