"""The billing service: billing extracted from the legacy monolith, with its own database."""
