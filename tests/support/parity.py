"""Parity: the same request script sent to legacy and to its replacement, answer by answer.

A script is a list of ``Step``s. Each side runs the script against its own database, so each
side generates its own ids; a step names the ids it *captures* from its answer
(``captures={"invoice": "/invoice/id"}``) and later steps use them in their path and headers
(``/api/billing/invoices/{invoice}/pay``): each side is asked about its own records.

Two answers are judged by the gateway's shadow comparison (``strangler_gateway.comparison``)
under ``ParityRules.compare``, after two declared normalisations that only an independent
run needs:

- every id a side captured is replaced by its alias in every string of that side's answer,
  so ``"No invoice with id '7f…'."`` reads ``"No invoice with id '{invoice}'."`` on both
  sides and ids are still compared, as names rather than ignored;
- a field matching one of ``ParityRules.clocks`` holds an instant each side read from its own
  clock: its value becomes its shape (``<instant+00:00>``), so ``null`` against a time, or a
  change of format, still differs.

A step may be a declared ``ParityException``: a difference that is meant, checked as exactly
that difference rather than compared.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime
from typing import Any

import httpx
from strangler_gateway.comparison import Answer, CompareRules, compare, lines, path_matches

__all__ = [
    "Expected",
    "ParityException",
    "ParityRules",
    "Side",
    "Step",
    "StepOutcome",
    "report",
    "run_script",
]

PROBLEM_TYPE_BASE = "https://strangler-fig.dev/problems/"
SHOWN_BODY_CHARS = 600
_OFFSET = re.compile(r"([+-]\d\d:\d\d|Z)$")


@dataclass(frozen=True)
class Step:
    """One request. ``path`` and header values are templates over the side's captured ids,
    ``{run}`` (a suffix unique to the run) and ``{unknown}`` (an id neither side has).

    ``caller`` names the ``Authorization`` value to send (a key of the run's credentials);
    ``None`` sends none. ``json`` is sent as a JSON body, ``content`` as raw bytes.
    """

    name: str
    method: str
    path: str
    caller: str | None = None
    json: Any = None
    _: KW_ONLY
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    captures: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Expected:
    """What one side answers for a declared exception: a status and, for a problem, its type."""

    status: int
    problem: str | None = None

    def differences(self, response: httpx.Response) -> list[str]:
        """How ``response`` departs from what was declared; empty when it answers as declared."""
        found = []
        if response.status_code != self.status:
            found.append(f"status {response.status_code}, expected {self.status}")
        if self.problem is not None:
            document = _json_or_none(response.content)
            problem_type = document.get("type") if isinstance(document, dict) else None
            if problem_type != PROBLEM_TYPE_BASE + self.problem:
                found.append(f"problem type {problem_type!r}, expected {self.problem!r}")
        return found


@dataclass(frozen=True)
class ParityException:
    """A step whose answers are meant to differ, and how: ``reason`` says why."""

    reason: str
    legacy: Expected
    new: Expected


@dataclass(frozen=True)
class ParityRules:
    """``compare``: the gateway's shadow rules for the route plus the parity-only extension;
    ``clocks``: field patterns whose instants each side takes from its own clock;
    ``exceptions``: declared differences, by step name."""

    compare: CompareRules
    clocks: tuple[str, ...] = ()
    exceptions: Mapping[str, ParityException] = field(default_factory=dict)

    def judge(
        self,
        step: Step,
        legacy: httpx.Response,
        new: httpx.Response,
        legacy_ids: Mapping[str, str],
        new_ids: Mapping[str, str],
    ) -> StepOutcome:
        """Compare the two answers to ``step``, or check them against its declared exception."""
        legacy_answer = self.normalised(legacy, legacy_ids)
        new_answer = self.normalised(new, new_ids)
        exception = self.exceptions.get(step.name)
        if exception is None:
            differences = lines(compare(legacy_answer, new_answer, self.compare))
        else:
            differences = [
                f"{side}: {departure}"
                for side, expected, response in (
                    ("legacy", exception.legacy, legacy),
                    ("new", exception.new, new),
                )
                for departure in expected.differences(response)
            ]
        return StepOutcome(step, legacy_answer, new_answer, differences, exception)

    def normalised(self, response: httpx.Response, captured: Mapping[str, str]) -> Answer:
        """The answer as compared: captured ids by alias, clock values by their shape."""
        headers = {
            name.lower(): _aliased(value, captured) for name, value in response.headers.items()
        }
        document = _json_or_none(response.content)
        if document is None:
            return Answer(response.status_code, headers, response.content)
        normalised = self._normalise(document, captured, ())
        return Answer(response.status_code, headers, json.dumps(normalised).encode())

    def _normalise(self, value: Any, captured: Mapping[str, str], path: tuple[str, ...]) -> Any:
        if isinstance(value, dict):
            return {k: self._normalise(v, captured, (*path, str(k))) for k, v in value.items()}
        if isinstance(value, list):
            return [self._normalise(v, captured, (*path, str(i))) for i, v in enumerate(value)]
        if isinstance(value, str):
            if any(path_matches(pattern, path) for pattern in self.clocks):
                return _instant_shape(value)
            return _aliased(value, captured)
        return value


@dataclass
class Side:
    """One side of the comparison: a client into it and the ids it captured so far."""

    client: httpx.AsyncClient
    captured: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StepOutcome:
    step: Step
    legacy: Answer
    new: Answer
    differences: list[str]
    exception: ParityException | None = None

    def report(self) -> str:
        """The step, its field-level differences, and both normalised answers, for a person."""
        step = self.step
        heading = f"step {step.name!r}: {step.method} {step.path}"
        if self.exception is not None:
            heading += f"  (declared exception: {self.exception.reason})"
        shown = [heading, *(f"    {line}" for line in self.differences)]
        for side, answer in (("legacy", self.legacy), ("new", self.new)):
            body = answer.body.decode(errors="replace")
            if len(body) > SHOWN_BODY_CHARS:
                body = body[:SHOWN_BODY_CHARS] + "…"
            shown.append(f"  {side} answered {answer.status}: {body}")
        return "\n".join(shown)


def report(outcomes: Sequence[StepOutcome]) -> str:
    """Every step that differs, in script order: the first is usually the cause of the rest."""
    failed = [outcome for outcome in outcomes if outcome.differences]
    return f"{len(failed)} of {len(outcomes)} steps differ:\n\n" + "\n\n".join(
        outcome.report() for outcome in failed
    )


class _Template(dict[str, str]):
    def __missing__(self, alias: str) -> str:
        return f"<not-captured:{alias}>"


async def run_script(
    script: Sequence[Step],
    legacy: Side,
    new: Side,
    rules: ParityRules,
    credentials: Mapping[str, str],
) -> list[StepOutcome]:
    """Send every step to legacy, then to new, and judge each pair of answers under ``rules``."""
    constants = {"run": uuid.uuid4().hex[:10], "unknown": str(uuid.uuid4())}
    outcomes = []
    for step in script:
        legacy_answer = await _send(legacy, step, constants, credentials)
        new_answer = await _send(new, step, constants, credentials)
        _capture(legacy, step, legacy_answer)
        _capture(new, step, new_answer)
        outcomes.append(rules.judge(step, legacy_answer, new_answer, legacy.captured, new.captured))
    return outcomes


async def _send(
    side: Side, step: Step, constants: Mapping[str, str], credentials: Mapping[str, str]
) -> httpx.Response:
    values = _Template({**constants, **side.captured})
    headers = {name: value.format_map(values) for name, value in step.headers.items()}
    if step.caller is not None:
        headers["Authorization"] = credentials[step.caller]
    if step.content is not None:
        headers.setdefault("Content-Type", "application/json")
    return await side.client.request(
        step.method,
        step.path.format_map(values),
        json=step.json,
        content=step.content,
        headers=headers,
    )


def _capture(side: Side, step: Step, response: httpx.Response) -> None:
    """Remember the ids the step names, where this side's answer has them."""
    document = _json_or_none(response.content)
    for alias, pointer in step.captures.items():
        value = _at(document, pointer)
        if isinstance(value, str):
            side.captured[alias] = value


def _at(document: Any, pointer: str) -> Any:
    for segment in pointer.strip("/").split("/"):
        if isinstance(document, dict):
            document = document.get(segment)
        elif isinstance(document, list) and segment.isdigit() and int(segment) < len(document):
            document = document[int(segment)]
        else:
            return None
    return document


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def _aliased(text: str, captured: Mapping[str, str]) -> str:
    for alias, value in sorted(captured.items(), key=lambda item: -len(item[1])):
        if value:
            text = text.replace(value, "{" + alias + "}")
    return text


def _instant_shape(value: str) -> str:
    """``2025-01-31T10:00:00.123+00:00`` → ``<instant+00:00>``; anything else stays as it is."""
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = _OFFSET.search(value)
    return f"<instant{offset.group(1) if offset else ''}>"
