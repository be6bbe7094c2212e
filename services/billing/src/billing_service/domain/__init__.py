"""Billing's model in plain Python: aggregates, their rules, and the events they record.

Nothing here knows about HTTP, SQL, Kafka or the payment provider's wire format.
"""
