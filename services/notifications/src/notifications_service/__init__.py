"""Notifications, extracted from the monolith: nobody calls it, it reacts to events."""
