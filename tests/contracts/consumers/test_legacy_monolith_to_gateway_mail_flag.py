"""The monolith → the gateway's admin API, for the ``mail`` flag (who sends the e-mails):
its ``GatewayFlagPoller`` (``MONOLITH_MAIL_FLAG_URL``) reads ``GET /_strangler/flags`` with
the operator token and its own name as the actor, and ``state_from_flags_view`` keeps each
route's flag and each side-effect flag — ``mail`` among ``side_effects``, with its mode and
targeting — and the kill switch. Replayed against a real gateway by
tests/contracts/providers/test_gateway_admin.py.
"""

from __future__ import annotations

from pact import Pact, match
from strangler_flags import MAIL, GatewayFlagPoller, Mode

from tests.contracts.pacts import pact_dir

TOKEN = "operator-token"
MODE = r"^(legacy|shadow|canary|new)$"


async def test_the_monolith_reads_who_sends_the_mail() -> None:
    pact = Pact("legacy-monolith", "gateway-admin").with_specification("V4")
    (
        pact.upon_receiving("the flags, as the monolith's mail-flag poller reads them")
        .given("the gateway routes with its default flags")
        .with_request("GET", "/_strangler/flags")
        .with_header("Authorization", match.regex(f"Bearer {TOKEN}", regex=r"^Bearer \S+$"))
        .with_header("X-Strangler-Actor", "legacy-monolith")
        .will_respond_with(200)
        .with_body(
            {
                "kill_switch": match.bool(False),
                "flags": match.each_like(
                    {
                        "route": match.str("billing"),
                        "mode": match.regex("legacy", regex=MODE),
                        "percent": match.int(0),
                    },
                    min=1,
                ),
                "side_effects": match.each_like(
                    {
                        "name": "mail",
                        "mode": match.regex("legacy", regex=MODE),
                        "force_new_user_ids": match.type([]),
                        "force_new_email_domains": match.type([]),
                    },
                    min=1,
                ),
            },
            content_type="application/json",
        )
    )
    with pact.serve() as mock:
        poller = GatewayFlagPoller(str(mock.url), TOKEN, actor="legacy-monolith")
        async with poller.client() as client:
            read = await poller.poll(client)
    pact.write_file(pact_dir(), overwrite=True)
    state = poller.current()
    assert read, poller.last_problem
    assert state is not None
    assert state.flag(MAIL).mode is Mode.LEGACY
    assert state.kill_switch is False
