"""Notifications' rules in plain Python: templates, preferences, the send ledger's states."""
