"""How notifications is reached: HTTP, the event consumer, the command line."""
