"""Pact runs offline: no usage statistics sent from a test run."""

import os

os.environ["PACT_DO_NOT_TRACK"] = "true"
