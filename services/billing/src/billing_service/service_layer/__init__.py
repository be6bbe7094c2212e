"""Billing's use cases: each command handled in a unit of work, and the queries behind the API."""
