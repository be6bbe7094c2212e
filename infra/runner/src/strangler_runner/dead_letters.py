"""`strangler dlq`: what consumers gave up on, why, and sending it back once fixed."""

import asyncio
import json

from strangler_contracts import ALL_TOPICS
from strangler_eventing import BrokerConfig, DeadLetter, read_dead_letters, redrive

from strangler_runner.console import RunnerConsole

__all__ = ["list_dead_letters", "redrive_dead_letters", "show_dead_letter"]


def _source_topics(topic: str | None) -> list[str]:
    if topic is not None:
        return [topic.removesuffix(".dlq")]
    return [spec.name for spec in ALL_TOPICS if not spec.name.endswith(".dlq")]


async def _letters(config: BrokerConfig, topic: str | None) -> list[DeadLetter]:
    letters: list[DeadLetter] = []
    for source in _source_topics(topic):
        letters.extend(await read_dead_letters(config, source))
    return letters


def list_dead_letters(config: BrokerConfig, topic: str | None, console: RunnerConsole) -> int:
    letters = asyncio.run(_letters(config, topic))
    if not letters:
        console.message("no dead letters")
        return 0
    console.table(
        ["ref", "group", "reason", "attempts", "failed at", "error"],
        [
            [
                letter.ref,
                letter.info.get("consumer-group", ""),
                letter.info.get("reason", ""),
                letter.info.get("attempts", ""),
                letter.info.get("failed-at", ""),
                letter.info.get("error", "")[:80],
            ]
            for letter in letters
        ],
    )
    return 0


def show_dead_letter(config: BrokerConfig, ref: str, console: RunnerConsole) -> int:
    letter = _find(asyncio.run(_letters(config, _topic_of(ref))), ref)
    if letter is None:
        console.error(f"no dead letter {ref} — `strangler dlq list` shows them")
        return 1
    console.message(
        json.dumps(
            {
                "ref": letter.ref,
                "key": letter.key.decode(errors="replace") if letter.key else None,
                "dead_letter": letter.info,
                "original_headers": {
                    name: value.decode(errors="replace") for name, value in letter.original_headers
                },
                "value": letter.value.decode(errors="replace"),
            },
            indent=2,
        )
    )
    return 0


def redrive_dead_letters(
    config: BrokerConfig, refs: list[str], topic: str | None, console: RunnerConsole
) -> int:
    """Send the named dead letters (or all of ``topic``'s, or all) back to their topics."""
    letters = asyncio.run(_letters(config, topic))
    if refs:
        chosen = [letter for ref in refs if (letter := _find(letters, ref)) is not None]
        missing = sorted(set(refs) - {letter.ref for letter in chosen})
        if missing:
            console.error(f"no dead letter {', '.join(missing)}")
            return 1
    else:
        chosen = letters
    count = asyncio.run(redrive(config, chosen))
    console.message(f"redrove {count} dead letters to their original topics")
    return 0


def _topic_of(ref: str) -> str:
    return ref.rsplit(":", 2)[0]


def _find(letters: list[DeadLetter], ref: str) -> DeadLetter | None:
    return next((letter for letter in letters if letter.ref == ref), None)
