"""The request script both account sides answer: registrations, logins, the current user,
password changes, closing an account (asked, asked again, followed, resumed when not
paused), and every refusal on the way, in one sequence.

Each side registers its own ``ada`` and ``bob``; their ids and access tokens are captured
per side (``captures``) and sent by later steps (``{ada_token}``), so each side is asked about
its own accounts. ``{run}`` makes the addresses unique to the run.
"""

from __future__ import annotations

from tests.support.parity import Step

__all__ = ["AUTH_SCRIPT"]

USERS = "/api/users"
ME = "/api/users/me"
PASSWORD = ME + "/password"
LOGIN = "/api/auth/login"
ADA = "ada-{run}@example.com"
ADA_PASSWORD = "correct-horse-battery"


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {{{token}}}"}


REGISTERING = [
    Step(
        "register-ada",
        "POST",
        USERS,
        json={"email": "ada-{run}@example.com", "password": ADA_PASSWORD, "name": "Ada"},
        captures={"ada": "/id"},
    ),
    Step(
        "register-bob",
        "POST",
        USERS,
        json={"email": "bob-{run}@example.com", "password": "bobs-own-password", "name": "Bob"},
        captures={"bob": "/id"},
    ),
    Step(
        "register-ada-again",
        "POST",
        USERS,
        json={"email": "ADA-{run}@example.com", "password": ADA_PASSWORD, "name": "Ada II"},
    ),
    Step(
        "register-with-an-invisible-character",
        "POST",
        USERS,
        json={"email": "e\u200bve@example.com", "password": ADA_PASSWORD, "name": "Eve"},
    ),
    Step(
        "register-with-a-look-alike-domain",
        "POST",
        USERS,
        json={"email": "eve@p\u0430ypal.com", "password": ADA_PASSWORD, "name": "Eve"},
    ),
    Step(
        "register-with-a-line-break-in-the-name",
        "POST",
        USERS,
        json={"email": "eve-{run}@example.com", "password": ADA_PASSWORD, "name": "Eve\nBcc"},
    ),
    Step(
        "register-with-a-short-password",
        "POST",
        USERS,
        json={"email": "eve-{run}@example.com", "password": "short", "name": "Eve"},
    ),
    Step(
        "register-with-an-extra-field",
        "POST",
        USERS,
        json={
            "email": "eve-{run}@example.com",
            "password": ADA_PASSWORD,
            "name": "Eve",
            "admin": True,
        },
    ),
    Step("register-with-malformed-json", "POST", USERS, content=b'{"email": '),
    Step("register-with-no-body", "POST", USERS),
]

LOGGING_IN = [
    Step(
        "log-in-ada",
        "POST",
        LOGIN,
        json={"email": ADA, "password": ADA_PASSWORD},
        captures={"ada_token": "/access_token"},
    ),
    Step(
        "log-in-with-another-case",
        "POST",
        LOGIN,
        json={"email": "Ada-{run}@EXAMPLE.com", "password": ADA_PASSWORD},
    ),
    Step(
        "log-in-bob",
        "POST",
        LOGIN,
        json={"email": "bob-{run}@example.com", "password": "bobs-own-password"},
        captures={"bob_token": "/access_token"},
    ),
    Step("log-in-with-a-wrong-password", "POST", LOGIN, json={"email": ADA, "password": "nope"}),
    Step(
        "log-in-as-nobody",
        "POST",
        LOGIN,
        json={"email": "nobody-{run}@example.com", "password": ADA_PASSWORD},
    ),
    Step(
        "log-in-with-control-characters",
        "POST",
        LOGIN,
        json={"email": "\u202eada\x07@example.com", "password": "\x00"},
    ),
    Step("log-in-without-a-password", "POST", LOGIN, json={"email": ADA}),
    Step("log-in-with-an-empty-password", "POST", LOGIN, json={"email": ADA, "password": ""}),
]

READING = [
    Step("read-me-as-ada", "GET", ME, headers=_as("ada_token")),
    Step("read-me-as-bob", "GET", ME, headers=_as("bob_token")),
    Step("read-me-without-a-token", "GET", ME),
    Step("read-me-with-a-malformed-token", "GET", ME, headers={"Authorization": "Bearer x.y"}),
    Step("read-me-with-the-basic-scheme", "GET", ME, headers={"Authorization": "Basic YTpi"}),
    Step("read-a-path-accounts-do-not-have", "GET", USERS + "/nothing-here"),
    # A method neither side has is refused alike.
    Step("replace-me", "PUT", ME, headers=_as("ada_token")),
    Step("rename-ada", "PATCH", ME, json={"name": "Ada Lovelace"}, headers=_as("ada_token")),
    Step(
        "rename-ada-to-the-same-name",
        "PATCH",
        ME,
        json={"name": "Ada Lovelace"},
        headers=_as("ada_token"),
    ),
    Step(
        "rename-with-a-line-break",
        "PATCH",
        ME,
        json={"name": "Ada\r\nBcc: x"},
        headers=_as("ada_token"),
    ),
    Step("rename-to-nothing", "PATCH", ME, json={"name": "   "}, headers=_as("ada_token")),
    Step("rename-without-a-token", "PATCH", ME, json={"name": "Mallory"}),
    Step("read-me-after-the-rename", "GET", ME, headers=_as("ada_token")),
]

CHANGING_THE_PASSWORD = [
    Step(
        "change-the-password-with-a-wrong-current-one",
        "POST",
        PASSWORD,
        json={"current_password": "not-it", "new_password": "a-brand-new-password"},
        headers=_as("ada_token"),
    ),
    Step(
        "change-the-password-to-a-short-one",
        "POST",
        PASSWORD,
        json={"current_password": ADA_PASSWORD, "new_password": "short"},
        headers=_as("ada_token"),
    ),
    Step(
        "change-the-password-without-a-token",
        "POST",
        PASSWORD,
        json={"current_password": ADA_PASSWORD, "new_password": "a-brand-new-password"},
    ),
    Step(
        "change-the-password",
        "POST",
        PASSWORD,
        json={"current_password": ADA_PASSWORD, "new_password": "a-brand-new-password"},
        headers=_as("ada_token"),
    ),
    Step("read-me-with-a-token-older-than-the-password", "GET", ME, headers=_as("ada_token")),
    Step("read-me-as-bob-after-ada-changed-hers", "GET", ME, headers=_as("bob_token")),
    Step(
        "log-in-ada-with-the-old-password",
        "POST",
        LOGIN,
        json={"email": ADA, "password": ADA_PASSWORD},
    ),
    Step(
        "log-in-ada-with-the-new-password",
        "POST",
        LOGIN,
        json={"email": ADA, "password": "a-brand-new-password"},
    ),
]

CLOSURE = ME + "/closure"
RESUME = CLOSURE + "/resume"

CLOSING = [
    Step("read-the-closure-before-asking", "GET", CLOSURE, headers=_as("bob_token")),
    Step("resume-a-closure-never-asked", "POST", RESUME, headers=_as("bob_token")),
    Step("close-without-a-token", "DELETE", ME),
    Step("read-the-closure-without-a-token", "GET", CLOSURE),
    Step(
        "close-bob",
        "DELETE",
        ME,
        headers=_as("bob_token"),
        captures={"closure": "/id", "closure_requested_at": "/requested_at"},
    ),
    Step("close-bob-again", "DELETE", ME, headers=_as("bob_token")),
    Step("read-bob-s-closure", "GET", CLOSURE, headers=_as("bob_token")),
    Step("resume-a-closure-that-is-not-paused", "POST", RESUME, headers=_as("bob_token")),
]

ONLY_AUTH = [
    Step(
        "refresh-with-a-token-nobody-issued",
        "POST",
        "/api/auth/refresh",
        json={"refresh_token": "nobody-issued-this"},
    ),
    Step(
        "log-out-with-a-token-nobody-issued",
        "POST",
        "/api/auth/logout",
        json={"refresh_token": "nobody-issued-this"},
    ),
]

AUTH_SCRIPT = [
    *REGISTERING,
    *LOGGING_IN,
    *READING,
    *CHANGING_THE_PASSWORD,
    *CLOSING,
    *ONLY_AUTH,
]
