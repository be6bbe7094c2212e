"""E-mail addresses as an identity: one written form, one comparison key, no look-alikes.

People type the same address in different ways (``José`` composed or as ``e`` + U+0301,
upper or lower case, a domain in Unicode or in punycode), and an attacker types a
different address that looks the same (a Cyrillic ``а`` in ``pаypal.com``, fullwidth
``ａ``, a ligature ``ﬁ``, an invisible joiner). The rules, in the order they apply:

1. **Normalise** to NFC, drop surrounding white space; the domain goes through IDNA
   (UTS #46, non-transitional, as browsers and mail servers do) and is held as its Unicode
   form (U-label) and its ASCII form (A-label, ``xn--…``).
2. **Refuse** what cannot be told apart from another address: control, format and invisible
   characters, white space, compatibility forms (fullwidth letters, ligatures, superscripts:
   anything NFKC changes), a local part or domain label that mixes scripts (Latin with
   Cyrillic or Greek; Latin with Han, kana and Hangul is allowed, as UTS #39 "highly
   restrictive" does for Japanese, Chinese and Korean), and a label written only in Cyrillic
   or Greek letters that all look Latin under an ASCII top-level domain (Chrome's rule).
   Quoted local parts and IP literals are refused too: nobody registers with them.
3. **Compare** by a key: the NFKC case fold of the address (``ß`` → ``ss``, ``İ`` → ``i``,
   dotless ``ı`` → ``i``). Two addresses with one key are one identity, so a look-alike
   collides with the original instead of becoming a second account.

The written form keeps what the person typed (NFC, lower case, the domain as a U-label),
because it is where mail goes: ``straße@…`` and ``strasse@…`` may be different mailboxes
even though they share a key. ``needs_smtputf8`` says when delivering needs SMTPUTF8 (a
non-ASCII local part; a non-ASCII domain alone is sent as its A-label).

Pure Python and ``idna``: the monolith uses it today and the auth service will tomorrow.
"""

# Look-alike letters are this module's subject; ruff's ambiguous-character rules would flag
# every example and table entry.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Final

import idna

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "EmailAddress",
    "UnacceptableEmailAddress",
    "comparison_key",
    "parse_email_address",
]

MAX_ADDRESS_LENGTH: Final = 254
MAX_LOCAL_PART_OCTETS: Final = 64

# Scripts that may share one label (UTS #39 "highly restrictive"): Japanese, Chinese, Korean.
_ALLOWED_MIXES: Final = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# Cyrillic and Greek letters a reader takes for Latin ones (lower case, after case folding).
_LATIN_LOOKALIKES: Final = frozenset(
    "аԁеһіјӏорԛѕԝхусъьпгѵѡкмнтв"  # Cyrillic
    "αεικνορτυχω"  # Greek
)
_LOCAL_PART_SYMBOLS: Final = frozenset("!#$%&'*+-/=?^_`{|}~.")
# Folded forms that read the same as a plain letter: i + combining dot above (from İ), ı.
_KEY_SKELETON: Final = {"i\u0307": "i", "ı": "i"}


class UnacceptableEmailAddress(ValueError):
    """The text is not an address we accept; the message says why, for a person."""


@dataclass(frozen=True)
class EmailAddress:
    """An accepted address: ``address`` to store and send to, ``key`` to compare by."""

    local_part: str
    domain: str
    ascii_domain: str
    key: str

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain}"

    @property
    def needs_smtputf8(self) -> bool:
        return not self.local_part.isascii()

    @property
    def deliverable(self) -> str:
        """The address as an SMTP client should send it: ASCII domain when the local part
        is ASCII, so that no SMTPUTF8 is needed; else the Unicode address."""
        if self.needs_smtputf8:
            return self.address
        return f"{self.local_part}@{self.ascii_domain}"


def parse_email_address(text: str) -> EmailAddress:
    """Normalise ``text`` to an accepted address, or raise ``UnacceptableEmailAddress``."""
    written = unicodedata.normalize("NFC", text.strip())
    if len(written) > MAX_ADDRESS_LENGTH:
        raise UnacceptableEmailAddress(f"An address has at most {MAX_ADDRESS_LENGTH} characters.")
    _refuse_invisible(written)
    if unicodedata.normalize("NFKC", written) != written:
        raise UnacceptableEmailAddress(
            "The address contains compatibility characters (such as fullwidth letters, "
            "ligatures or superscripts); type it with ordinary letters."
        )
    local_part, at, domain = written.rpartition("@")
    if not at or not local_part or not domain:
        raise UnacceptableEmailAddress("An address has the form name@domain.")
    local_part = local_part.lower()
    _check_local_part(local_part)
    unicode_domain, ascii_domain = _normalised_domain(domain)
    return EmailAddress(
        local_part=local_part,
        domain=unicode_domain,
        ascii_domain=ascii_domain,
        key=_key(f"{local_part}@{unicode_domain}"),
    )


def comparison_key(text: str) -> str:
    """The key ``text`` is compared by; total, so a login never fails on odd input.

    For an acceptable address it is ``parse_email_address(text).key``; anything else gets
    a key derived the same way, which matches no account.
    """
    try:
        return parse_email_address(text).key
    except UnacceptableEmailAddress:
        return _key(unicodedata.normalize("NFC", text.strip()))


def _key(address: str) -> str:
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", address).casefold())
    for lookalike, plain in _KEY_SKELETON.items():
        folded = folded.replace(lookalike, plain)
    return folded


def _refuse_invisible(text: str) -> None:
    for char in text:
        category = unicodedata.category(char)
        if category in {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp", "Zs"}:
            raise UnacceptableEmailAddress(
                f"The address contains an invisible or white-space character "
                f"(U+{ord(char):04X}); type it without."
            )


def _check_local_part(local_part: str) -> None:
    if len(local_part.encode()) > MAX_LOCAL_PART_OCTETS:
        raise UnacceptableEmailAddress(
            f"The part before @ has at most {MAX_LOCAL_PART_OCTETS} bytes."
        )
    if local_part.startswith('"'):
        raise UnacceptableEmailAddress("Quoted addresses are not accepted.")
    if local_part.startswith(".") or local_part.endswith(".") or ".." in local_part:
        raise UnacceptableEmailAddress(
            "The part before @ cannot start or end with a dot, nor hold two dots in a row."
        )
    for char in local_part:
        if char.isascii() and not (char.isalnum() or char in _LOCAL_PART_SYMBOLS):
            raise UnacceptableEmailAddress(f"The part before @ cannot contain {char!r}.")
        if not char.isascii() and unicodedata.category(char)[0] not in "LMN":
            raise UnacceptableEmailAddress(f"The part before @ cannot contain U+{ord(char):04X}.")
    _refuse_mixed_scripts(local_part, "the part before @")


def _normalised_domain(domain: str) -> tuple[str, str]:
    if domain.startswith("["):
        raise UnacceptableEmailAddress("Addresses at an IP literal are not accepted.")
    try:
        ascii_domain = idna.encode(domain, uts46=True, transitional=False).decode("ascii")
        unicode_domain = idna.decode(ascii_domain)
    except (idna.IDNAError, UnicodeError) as exc:
        raise UnacceptableEmailAddress(f"The domain is not a valid domain name: {exc}.") from exc
    labels = unicode_domain.split(".")
    if len(labels) < 2:
        raise UnacceptableEmailAddress("The domain needs a dot, as in example.com.")
    ascii_tld = labels[-1].isascii()
    for label in labels:
        _refuse_mixed_scripts(label, f"the domain label '{label}'")
        if ascii_tld and not label.isascii() and set(label) <= _LATIN_LOOKALIKES:
            raise UnacceptableEmailAddress(
                f"The domain label '{label}' is written in letters that look Latin but are "
                "not; it would pass for another domain."
            )
    return unicode_domain, ascii_domain


def _refuse_mixed_scripts(text: str, where: str) -> None:
    scripts = {_script(char) for char in text if unicodedata.category(char).startswith("L")}
    if len(scripts) <= 1 or any(scripts <= allowed for allowed in _ALLOWED_MIXES):
        return
    raise UnacceptableEmailAddress(
        f"{where.capitalize()} mixes scripts ({', '.join(sorted(s.title() for s in scripts))}); "
        "such addresses pass for others."
    )


def _script(letter: str) -> str:
    """The script of a letter, from its Unicode name (``CYRILLIC SMALL LETTER A``)."""
    name = unicodedata.name(letter, "UNKNOWN")
    if name.startswith("CJK "):
        return "HAN"
    return name.split(" ", 1)[0]
