"""E-mail addresses as an identity: one written form, one comparison key, no look-alikes."""

# The comments show the look-alike letters the escapes stand for.
# ruff: noqa: RUF003

from __future__ import annotations

import pytest
from strangler_identity import UnacceptableEmailAddress, comparison_key, parse_email_address

DECOMPOSED_E = "e\u0301"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (f"Jos{DECOMPOSED_E}@Example.COM", "jos\u00e9@example.com"),
        ("  ada@example.com ", "ada@example.com"),
        ("ada@B\u00fccher.Example", "ada@b\u00fccher.example"),
        ("ada@xn--bcher-kva.example", "ada@b\u00fccher.example"),
        ("\u7528\u6237@\u4f8b\u5b50.\u6d4b\u8bd5", "\u7528\u6237@\u4f8b\u5b50.\u6d4b\u8bd5"),
    ],
)
def test_an_address_is_stored_in_one_written_form(typed: str, stored: str) -> None:
    assert parse_email_address(typed).address == stored


@pytest.mark.parametrize(
    ("original", "lookalike"),
    [
        ("jos\u00e9@example.com", f"JOS{DECOMPOSED_E.upper()}@example.com"),
        ("info@example.com", "\u0130nfo@example.com"),  # İ
        ("info@example.com", "\u0131nfo@example.com"),  # dotless ı
        ("strasse@example.com", "stra\u00dfe@example.com"),  # ß
        ("ada@b\u00fccher.example", "ada@xn--bcher-kva.example"),
        ("ada@example.com", "ADA@EXAMPLE.COM"),
    ],
)
def test_look_alikes_share_one_comparison_key(original: str, lookalike: str) -> None:
    assert parse_email_address(lookalike).key == parse_email_address(original).key
    assert comparison_key(lookalike) == comparison_key(original)


@pytest.mark.parametrize(
    ("typed", "because"),
    [
        ("\uff41da@example.com", "compatibility"),  # fullwidth a
        ("o\ufb03ce@example.com", "compatibility"),  # ffi ligature
        ("ada@ex\u0430mple.com", "mixes scripts"),  # Cyrillic а in a Latin label
        ("\u0430da@example.com", "mixes scripts"),  # Cyrillic а in a Latin local part
        ("ada@\u03bfpen.example", "mixes scripts"),  # Greek ο
        ("ada@\u0430\u0440\u0440\u04cf\u0435.com", "look Latin"),  # аррӏе.com, all Cyrillic
        ("a\u200dda@example.com", "invisible"),  # zero-width joiner
        ("ada\u202e@example.com", "invisible"),  # right-to-left override
        ("ada @example.com", "white-space"),
        ("ada\n@example.com", "invisible"),
        ('"ada"@example.com', "Quoted"),
        ("ada@[127.0.0.1]", "IP literal"),
        ("ada@localhost", "needs a dot"),
        ("ada", "form name@domain"),
        ("a..da@example.com", "two dots"),
        ("a" * 65 + "@example.com", "64 bytes"),
    ],
)
def test_a_confusable_or_malformed_address_is_refused_saying_why(typed: str, because: str) -> None:
    with pytest.raises(UnacceptableEmailAddress, match=because):
        parse_email_address(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "\u5c71\u7530\u30bf\u30ed\u30a6@example.jp",  # Han + Katakana: Japanese
        "\u0434\u0438\u043c\u0430@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444",  # Cyrillic
        "\u03b4@\u03b5\u03bb\u03bb\u03ac\u03b4\u03b1.gr",  # Greek
    ],
)
def test_single_script_and_cjk_mixes_are_accepted(typed: str) -> None:
    assert parse_email_address(typed).key


@pytest.mark.parametrize(
    ("typed", "deliverable", "smtputf8"),
    [
        ("ada@example.com", "ada@example.com", False),
        ("ada@b\u00fccher.example", "ada@xn--bcher-kva.example", False),
        ("jos\u00e9@example.com", "jos\u00e9@example.com", True),
    ],
)
def test_smtputf8_is_needed_only_for_a_non_ascii_local_part(
    typed: str, deliverable: str, smtputf8: bool
) -> None:
    address = parse_email_address(typed)
    assert (address.deliverable, address.needs_smtputf8) == (deliverable, smtputf8)


def test_comparing_odd_text_never_fails() -> None:
    assert comparison_key("not an address") == "not an address"
    assert comparison_key("ADA\n@example.com") == "ada\n@example.com"
