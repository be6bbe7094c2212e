"""`strangler flags`, `kill-switch` and `diffs`: the gateway's control surface, in a terminal.

Each command is one or two admin API calls (`gateway_admin.py`) and a rendering of the
answer. The gateway is the one `strangler up` runs here unless told otherwise, and the token
is the one it was started with, from the state dir's secrets.json.
"""

import getpass
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from strangler_flags import Mode, RouteFlag

from strangler_runner.console import RunnerConsole
from strangler_runner.gateway_admin import (
    AuditEntry,
    FlagsView,
    FlagView,
    GatewayAdmin,
    GatewayAdminError,
    GatewayProblem,
    SideEffectView,
)
from strangler_runner.settings import RunnerSettings
from strangler_runner.state import StateDir
from strangler_runner.status import live_run_record

__all__ = [
    "AdminCommand",
    "FlagRequest",
    "InvalidFlagRequest",
    "admin_token",
    "gateway_url",
    "list_flags",
    "run_against_gateway",
    "set_flag",
    "show_diffs",
    "show_history",
    "switch_kill_switch",
]

AdminCommand = Callable[[GatewayAdmin, RunnerConsole], int]
MODES = ", ".join(mode.value for mode in Mode)
NOTHING = "—"


class InvalidFlagRequest(GatewayAdminError):
    """What was asked of `flags set` cannot be a flag; nothing was sent."""


def gateway_url(settings: RunnerSettings) -> str:
    """Where the gateway's admin API answers — its operator listener, not the public entry:
    STRANGLER_GATEWAY_URL, else the gateway of the runner up here, else host and admin port."""
    if settings.gateway_url:
        return settings.gateway_url
    record = live_run_record(StateDir(settings.state_dir))
    gateway = next((c for c in record.components if c.name == "gateway"), None) if record else None
    if gateway is not None and "operator" in gateway.urls:
        return gateway.urls["operator"]
    return f"http://{settings.host}:{settings.gateway_admin_port}"


def admin_token(settings: RunnerSettings) -> str:
    """STRANGLER_GATEWAY_ADMIN_TOKEN, else the token `strangler up` gave the gateway here."""
    if settings.gateway_admin_token is not None:
        return settings.gateway_admin_token.get_secret_value()
    state = StateDir(settings.state_dir)
    token = state.stored_admin_token()
    if token is None:
        raise GatewayAdminError(
            f"no admin token: {state.secrets_file} has none (`strangler up` writes it); "
            f"pass --token or set {RunnerSettings.env_var('gateway_admin_token')}"
        )
    return token


def _actor() -> str:
    """Who the audit trail names for changes made from this terminal."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def run_against_gateway(
    settings: RunnerSettings,
    console: RunnerConsole,
    url: str | None,
    token: str | None,
    command: AdminCommand,
) -> int:
    """Run one command against the gateway; any failure is one line on stderr and exit 1."""
    try:
        with GatewayAdmin(
            url or gateway_url(settings), token or admin_token(settings), _actor()
        ) as admin:
            return command(admin, console)
    except GatewayAdminError as failure:
        console.error(str(failure))
        if isinstance(failure, GatewayProblem) and failure.status in (401, 403):
            console.aside(
                "the token comes from --token, "
                f"{RunnerSettings.env_var('gateway_admin_token')} or the state dir's secrets.json"
            )
        return 1


# flags list


def _percent(flag: FlagView) -> str:
    return f"{flag.percent} %" if flag.mode == Mode.CANARY else NOTHING


def _show_flags(view: FlagsView, console: RunnerConsole, names: Sequence[str] = ()) -> None:
    """The route flags, the side-effect flags and the kill switch; only ``names`` if given."""
    flags = [flag for flag in view.flags if not names or flag.route in names]
    if flags:
        console.table(
            ["route", "prefix", "mode", "percent", "users on new", "e-mail domains on new"],
            [
                [
                    flag.route,
                    flag.prefix,
                    flag.mode,
                    _percent(flag),
                    ", ".join(flag.force_new_user_ids) or NOTHING,
                    ", ".join(flag.force_new_email_domains) or NOTHING,
                ]
                for flag in flags
            ],
            right_aligned=["percent"],
            unbroken=["route", "prefix", "mode", "percent"],
        )
    effects = [effect for effect in view.side_effects if not names or effect.name in names]
    if effects:
        console.table(
            ["side effect", "mode", "who does it", "users on new", "e-mail domains on new"],
            [
                [
                    effect.name,
                    effect.mode,
                    effect.new if effect.mode == Mode.NEW else effect.legacy,
                    ", ".join(effect.force_new_user_ids) or NOTHING,
                    ", ".join(effect.force_new_email_domains) or NOTHING,
                ]
                for effect in effects
            ],
            unbroken=["side effect", "mode"],
        )
    if view.kill_switch:
        console.message(
            "kill switch: ON — every route and side effect is legacy whatever its flag "
            "(`strangler kill-switch off` hands control back to the flags)"
        )
    else:
        console.message("kill switch: off")


def list_flags(admin: GatewayAdmin, console: RunnerConsole) -> int:
    _show_flags(admin.flags(), console)
    return 0


# flags set


class FlagRequest:
    """What `flags set` was asked, checked before anything is sent.

    Targeting not given is kept: the flag is read first and only what was asked changes.
    """

    def __init__(
        self,
        mode: str,
        percent: int | None,
        user_ids: Sequence[str],
        email_domains: Sequence[str],
        clear_targeting: bool,
    ) -> None:
        try:
            self.mode = Mode(mode.lower())
        except ValueError:
            raise InvalidFlagRequest(f"{mode!r} is not a mode; choose one of {MODES}") from None
        if self.mode is Mode.CANARY and percent is None:
            raise InvalidFlagRequest(
                "canary needs --percent N (0..100): the share of users that new serves"
            )
        if self.mode is not Mode.CANARY and percent is not None:
            raise InvalidFlagRequest(f"--percent applies to canary only, not to {self.mode}")
        if percent is not None and not 0 <= percent <= 100:
            raise InvalidFlagRequest(f"--percent must be within 0..100, not {percent}")
        self.percent = percent or 0
        self.user_ids = list(user_ids)
        self.email_domains = [domain.lower().lstrip("@") for domain in email_domains]
        self.clear_targeting = clear_targeting

    def applied_to(self, current: FlagView | SideEffectView | None) -> RouteFlag:
        kept_users = current.force_new_user_ids if current and not self.clear_targeting else []
        kept_domains = (
            current.force_new_email_domains if current and not self.clear_targeting else []
        )
        return RouteFlag(
            mode=self.mode,
            percent=self.percent,
            force_new_user_ids=frozenset(self.user_ids or kept_users),
            force_new_email_domains=frozenset(self.email_domains or kept_domains),
        )


def set_flag(
    admin: GatewayAdmin, console: RunnerConsole, route: str, request: FlagRequest, reason: str
) -> int:
    current = admin.flags().flag(route)
    view = admin.set_flag(route, request.applied_to(current), reason)
    _show_flags(view, console, names=[route])
    return 0


# flags history


def _when(at: datetime) -> str:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


def _summary(document: Mapping[str, Any] | None) -> str:
    """A flag or kill-switch document as a few words: `canary 30 %, users 42`."""
    if document is None:
        return NOTHING
    if set(document) == {"on"}:
        return "on" if document["on"] else "off"
    text = str(document.get("mode", "?"))
    if text == Mode.CANARY:
        text += f" {document.get('percent', '?')} %"
    if users := document.get("force_new_user_ids"):
        text += f", users {', '.join(map(str, users))}"
    if domains := document.get("force_new_email_domains"):
        text += f", domains {', '.join(map(str, domains))}"
    return text


def _history_row(entry: AuditEntry) -> list[str]:
    change = f"{_summary(entry.old)} → {_summary(entry.new)}"
    return [_when(entry.at), entry.who, entry.subject, change, entry.reason]


def show_history(admin: GatewayAdmin, console: RunnerConsole, route: str | None, limit: int) -> int:
    entries = admin.history(route, limit)
    if not entries:
        console.message(f"no changes to {route}" if route else "no changes yet")
        return 0
    console.table(
        ["at", "who", "subject", "old → new", "reason"],
        map(_history_row, entries),
        unbroken=["at", "subject"],
    )
    return 0


# kill-switch


def switch_kill_switch(admin: GatewayAdmin, console: RunnerConsole, on: bool, reason: str) -> int:
    view = admin.set_kill_switch(on, reason)
    if view.kill_switch:
        console.message("kill switch ON: every route is served by legacy, whatever its flag")
    else:
        console.message("kill switch off: each route is served as its flag says")
    return 0


# diffs


def show_diffs(admin: GatewayAdmin, console: RunnerConsole, route: str, limit: int) -> int:
    figures = admin.diffs(route)
    counts = [
        f"mirrored {figures.mirrored}",
        f"compared {figures.compared}",
        f"differing {figures.differing} (diff rate {figures.diff_rate:.1%})",
    ]
    if figures.noisy is not None:
        counts.append(f"noisy {figures.noisy} (not counted)")
    counts += [f"dropped {figures.dropped}", f"failed {figures.failed}"]
    console.message(f"{figures.route}: " + ", ".join(counts))
    if figures.noisy_fields:
        noise = ", ".join(figures.noisy_fields)
        console.message(f"noise (legacy differs from itself in these fields): {noise}")
    if figures.mirrored == 0:
        console.aside(f"mirrors run in shadow mode only: `strangler flags set {route} shadow`")
    recent = figures.recent[:limit]
    if not recent:
        console.message("no differences recorded")
        return 0
    console.message(f"latest differences, newest first ({len(recent)} of {len(figures.recent)}):")
    for difference in recent:
        console.message(f"{_when(difference.at)}  {difference.method} {difference.target}")
        for line in difference.fields:
            console.message(f"    {line}")
    return 0
