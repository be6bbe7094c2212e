"""Billing parity: the monolith's billing endpoints and the billing service answer the same
script alike, judged by the rules the gateway's shadow diff uses for ``/api/billing``."""

from __future__ import annotations

import pytest

from tests.integration.parity.billing_script import BILLING_SCRIPT
from tests.integration.parity.conftest import Parity
from tests.support.billing_parity import EXCEPTIONS, billing_parity_rules
from tests.support.parity import report, run_script

pytestmark = pytest.mark.integration


async def test_the_billing_service_answers_every_step_as_the_monolith_does(
    parity: Parity,
) -> None:
    outcomes = await run_script(
        BILLING_SCRIPT, parity.legacy, parity.new, billing_parity_rules(), parity.credentials
    )

    assert not any(outcome.differences for outcome in outcomes), report(outcomes)


def test_every_declared_exception_names_one_step_of_the_script() -> None:
    names = [step.name for step in BILLING_SCRIPT]

    assert len(names) == len(set(names)), "step names must be unique"
    assert set(EXCEPTIONS) <= set(names), "an exception names no step"
