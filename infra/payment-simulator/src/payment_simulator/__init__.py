"""A card-payment provider sandbox (think Stripe test mode) that runs as its own HTTP process."""
