"""What notifications talks to: its database, the SMTP server, the broker (via the outbox)."""
