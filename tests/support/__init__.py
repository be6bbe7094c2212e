"""Helpers shared by the unit, integration and end-to-end tests; nothing here is collected."""
