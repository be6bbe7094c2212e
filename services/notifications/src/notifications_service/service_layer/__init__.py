"""Notifications' use cases: mail asked for by events, the sender, the user's API."""
