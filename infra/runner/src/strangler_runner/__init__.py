"""The runner: starts every component as its own process, supervises and stops them."""
