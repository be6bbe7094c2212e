"""How billing is reached: its HTTP API, its event consumer, and its command line."""
