"""Billing's adapters: its database (tables, repositories, unit of work, outbox, migrations)
and its client of the payment provider."""
