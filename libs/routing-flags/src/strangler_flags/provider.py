"""An OpenFeature provider over the gateway's routing flags, deciding exactly as it does.

A service asks the question the gateway answers on every request — "which side serves this
user on route ``billing``?" — through the vendor-neutral OpenFeature API:

* the flag key is the route's name (``billing``);
* the evaluation context's ``targeting_key`` is the sticky user key (the token subject, or
  the gateway's ``strangler_uid`` cookie); attributes ``user_id`` and ``email`` feed
  targeting, and ``target`` (``legacy`` | ``new``) forces a side like ``X-Strangler-Target``;
* a string evaluation answers ``legacy`` or ``new``, a boolean one whether new serves.

The answer comes from ``decide()``, the function the gateway routes with, over the flags the
source last read; the gateway's own reason (``flag:canary-bucket-17``, ``kill-switch``, …) is
in the flag metadata under ``strangler_reason``, and mapped to an OpenFeature reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode, ProviderNotReadyError
from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType, Reason
from openfeature.provider import AbstractProvider, Metadata

from strangler_flags.decision import Decision, RequestFacts, Target, decide
from strangler_flags.sources import FlagSource, FlagSourceUnavailable

__all__ = ["PROVIDER_NAME", "StranglerFlagProvider", "openfeature_reason"]

PROVIDER_NAME = "strangler-routing-flags"

Value = TypeVar("Value")
ObjectValue = Sequence[FlagValueType] | Mapping[str, FlagValueType]


def openfeature_reason(strangler_reason: str) -> Reason:
    """The OpenFeature reason closest to a gateway reason."""
    if strangler_reason == "kill-switch":
        return Reason.DISABLED
    if strangler_reason.startswith("targeting:"):
        return Reason.TARGETING_MATCH
    if strangler_reason.startswith("flag:canary-bucket-"):
        return Reason.SPLIT
    if strangler_reason.startswith("flag:"):
        return Reason.STATIC
    return Reason.UNKNOWN


class _Unresolved(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _failed(default: Value, unresolved: _Unresolved) -> FlagResolutionDetails[Value]:
    return FlagResolutionDetails(
        value=default,
        error_code=unresolved.code,
        error_message=unresolved.message,
        reason=Reason.ERROR,
    )


def _resolved(value: Value, decision: Decision) -> FlagResolutionDetails[Value]:
    return FlagResolutionDetails(
        value=value,
        variant=decision.target.value,
        reason=openfeature_reason(decision.reason),
        flag_metadata={"strangler_reason": decision.reason},
    )


def _optional_text(context: EvaluationContext, name: str) -> str | None:
    value = context.attributes.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Unresolved(ErrorCode.INVALID_CONTEXT, f"attribute {name!r} must be a string")
    return value


def _facts(context: EvaluationContext | None) -> RequestFacts:
    """The gateway's view of a request, from an evaluation context.

    Without a targeting key the user id is the sticky key: at the gateway, a token's subject
    is both.
    """
    context = context or EvaluationContext()
    user_id = _optional_text(context, "user_id")
    target = _optional_text(context, "target")
    try:
        forced = Target(target) if target is not None else None
    except ValueError:
        raise _Unresolved(
            ErrorCode.INVALID_CONTEXT, f"attribute 'target' must be legacy or new, not {target!r}"
        ) from None
    return RequestFacts(
        user_key=context.targeting_key or user_id or "",
        user_id=user_id,
        email=_optional_text(context, "email"),
        forced_target=forced,
    )


class StranglerFlagProvider(AbstractProvider):
    """Routing flags as OpenFeature flags; evaluation reads memory only."""

    def __init__(self, source: FlagSource) -> None:
        super().__init__()
        self._source = source

    def get_metadata(self) -> Metadata:
        return Metadata(name=PROVIDER_NAME)

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        """Start following the flags; fails (the SDK reports an error) if none arrive in time.

        The source goes on trying after a failure: evaluations answer the default with
        ``PROVIDER_NOT_READY`` until the first flags arrive, then resolve normally.
        """
        try:
            self._source.start()
        except FlagSourceUnavailable as unavailable:
            raise ProviderNotReadyError(str(unavailable)) from unavailable

    def shutdown(self) -> None:
        self._source.stop()

    def _decide(self, flag_key: str, context: EvaluationContext | None) -> Decision:
        """Where the gateway sends this user on route ``flag_key``, and why.

        Raises ``_Unresolved`` when there is no answer (unknown route, no flags yet, …).
        """
        state = self._source.current()
        if state is None:
            raise _Unresolved(ErrorCode.PROVIDER_NOT_READY, "no flags read from the gateway yet")
        flag = state.flags.get(flag_key)
        if flag is None:
            raise _Unresolved(ErrorCode.FLAG_NOT_FOUND, f"no route is named {flag_key!r}")
        facts = _facts(context)
        decision = decide(flag, state.kill_switch, facts)
        if decision.reason.startswith("flag:canary-bucket-") and not facts.user_key:
            raise _Unresolved(
                ErrorCode.TARGETING_KEY_MISSING,
                f"route {flag_key!r} is a canary: its answer depends on the targeting key",
            )
        return decision

    def resolve_string_details(
        self,
        flag_key: str,
        default_value: str,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[str]:
        """``legacy`` or ``new``: the side that serves this user on the route."""
        try:
            decision = self._decide(flag_key, evaluation_context)
        except _Unresolved as unresolved:
            return _failed(default_value, unresolved)
        return _resolved(decision.target.value, decision)

    def resolve_boolean_details(
        self,
        flag_key: str,
        default_value: bool,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[bool]:
        """Whether the new side serves this user on the route."""
        try:
            decision = self._decide(flag_key, evaluation_context)
        except _Unresolved as unresolved:
            return _failed(default_value, unresolved)
        return _resolved(decision.target is Target.NEW, decision)

    def resolve_integer_details(
        self,
        flag_key: str,
        default_value: int,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[int]:
        return _failed(default_value, _type_mismatch(flag_key, "an integer"))

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        return _failed(default_value, _type_mismatch(flag_key, "a float"))

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: ObjectValue,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[ObjectValue]:
        return _failed(default_value, _type_mismatch(flag_key, "an object"))


def _type_mismatch(flag_key: str, asked: str) -> _Unresolved:
    return _Unresolved(
        ErrorCode.TYPE_MISMATCH,
        f"routing flag {flag_key!r} is a string (legacy | new) or a boolean (new?), not {asked}",
    )
