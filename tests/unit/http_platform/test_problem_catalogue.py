"""Every problem type the system can emit is in a catalogue and documented in docs/problems.md.

The types come from two places: every catalogue module of every component (imported here, so
each registers itself), and every slug the source uses directly (the older
``Problem(status, "slug", ...)`` form, ``problem_type("slug")`` and literal type URIs).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from http_platform.problem_catalogue import ProblemType, every_problem_type

ROOT = Path(__file__).resolve().parents[3]
SOURCE_ROOTS = sorted(
    [*ROOT.glob("*/src"), *ROOT.glob("services/*/src"), *ROOT.glob("infra/*/src"),
     *ROOT.glob("libs/*/src")]
)  # fmt: skip
DOCUMENT = ROOT / "docs" / "problems.md"

_USES = [
    re.compile(r'Problem\(\s*(\d{3}),\s*"([a-z][a-z0-9-]*)"'),
    re.compile(r'super\(\).__init__\(\s*(\d{3}),\s*"([a-z][a-z0-9-]*)"'),
    re.compile(r'\b_?[Cc]onflict\(\s*()"([a-z][a-z0-9-]*)"'),
    re.compile(r'problem_type\(\s*()"([a-z][a-z0-9-]*)"'),
    re.compile(r"strangler-fig\.dev/problems/()([a-z][a-z0-9-]*)"),
]
_CONFLICT = 409


def _source_files() -> list[tuple[Path, Path]]:
    return [(root, path) for root in SOURCE_ROOTS for path in sorted(root.rglob("*.py"))]


def _import_every_catalogue() -> None:
    for root, path in _source_files():
        if "ProblemCatalogue(" in path.read_text() and path.name != "problem_catalogue.py":
            importlib.import_module(".".join(path.relative_to(root).with_suffix("").parts))


def _slugs_used_directly() -> list[tuple[str, int | None, str]]:
    used = []
    for _, path in _source_files():
        text = path.read_text()
        for pattern in _USES:
            for match in pattern.finditer(text):
                status = int(match.group(1)) if match.group(1) else None
                if status is None and "onflict(" in match.group(0):
                    status = _CONFLICT
                used.append((match.group(2), status, str(path.relative_to(ROOT))))
    return used


def _catalogue() -> dict[str, ProblemType]:
    _import_every_catalogue()
    return every_problem_type()


def test_the_catalogues_of_every_component_are_found() -> None:
    owners = {"payment-simulator", "smtp-sink", "billing", "legacy-monolith", "data-migration"}
    slugs = _catalogue()

    assert {"payload-too-large", "duplicate-email", "customer-unknown", "unknown-entity"} <= set(
        slugs
    )
    from http_platform.problem_catalogue import every_catalogue

    assert owners <= {catalogue.owner for catalogue in every_catalogue()}


def test_every_slug_used_in_the_source_is_in_a_catalogue_with_the_same_status() -> None:
    catalogue = _catalogue()
    unknown = [
        f"{where}: {slug!r}" for slug, _, where in _slugs_used_directly() if slug not in catalogue
    ]
    wrong_status = [
        f"{where}: {slug!r} answered {status}, catalogued {catalogue[slug].status}"
        for slug, status, where in _slugs_used_directly()
        if slug in catalogue and status is not None and status != catalogue[slug].status
    ]

    assert unknown == [], "slugs no catalogue defines"
    assert wrong_status == []


def test_every_problem_type_is_documented_with_its_title_and_status() -> None:
    rows = {
        cells[0].strip("` "): [cell.strip() for cell in cells]
        for line in DOCUMENT.read_text().splitlines()
        if line.startswith("| `")
        for cells in [line.strip("|").split("|")]
    }

    undocumented = []
    for slug, kind in sorted(_catalogue().items()):
        row = rows.get(slug)
        if row is None or row[1] != str(kind.status) or row[2] != kind.title or not row[3]:
            undocumented.append(f"| `{slug}` | {kind.status} | {kind.title} | {kind.meaning} |")
    assert undocumented == [], "add or correct these rows of docs/problems.md"
