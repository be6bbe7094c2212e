"""A local e-mail sink: an SMTP server that keeps every message and shows it over HTTP."""
