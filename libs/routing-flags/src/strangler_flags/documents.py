"""The wire format of routing flags: one JSON document per flag.

The gateway stores flags as these documents, its admin API answers with them, and the
OpenFeature provider reads them back from ``GET /_strangler/flags``. Readers ignore keys they
do not know, so the admin API can grow without breaking a provider already deployed.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from strangler_flags.decision import FlagState, Mode, RouteFlag

__all__ = ["flag_from_document", "flag_to_document", "state_from_flags_view"]


def flag_to_document(flag: RouteFlag) -> dict[str, Any]:
    return {
        "mode": flag.mode.value,
        "percent": flag.percent,
        "force_new_user_ids": sorted(flag.force_new_user_ids),
        "force_new_email_domains": sorted(flag.force_new_email_domains),
    }


def flag_from_document(document: Mapping[str, Any]) -> RouteFlag:
    return RouteFlag(
        mode=Mode(document["mode"]),
        percent=int(document["percent"]),
        force_new_user_ids=frozenset(document.get("force_new_user_ids", ())),
        force_new_email_domains=frozenset(document.get("force_new_email_domains", ())),
    )


def state_from_flags_view(view: Mapping[str, Any]) -> FlagState:
    """The snapshot behind ``GET /_strangler/flags``: each route's flag keyed by the route's
    name, each side-effect flag (``side_effects``, e.g. ``mail``) by its own.

    Raises ``KeyError``, ``TypeError`` or ``ValueError`` when the view is not such an answer.
    """
    flags = {str(item["route"]): flag_from_document(item) for item in view["flags"]}
    flags |= {  # a side effect has no percentage: it is legacy or new
        str(item["name"]): flag_from_document({**item, "percent": 0})
        for item in view.get("side_effects", ())
    }
    return FlagState(MappingProxyType(flags), bool(view["kill_switch"]))
