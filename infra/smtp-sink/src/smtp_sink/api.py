"""The sink's HTTP API: look at the caught messages, or throw them all away."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from http_platform import PROBLEM_CONTENT_TYPE, Page, PageQuery, Problem, ProblemCatalogue
from http_platform.service_app import root_of
from pydantic import BaseModel, ConfigDict, Field

from smtp_sink.bootstrap import Sink
from smtp_sink.mailbox import Mailbox, MessageNotFound
from smtp_sink.message import ReceivedMessage

__all__ = ["MESSAGE_NOT_FOUND", "SMTP_SINK_PROBLEMS", "MessageResponse", "router"]

SMTP_SINK_PROBLEMS = ProblemCatalogue("smtp-sink")
MESSAGE_NOT_FOUND = SMTP_SINK_PROBLEMS.define(
    "message-not-found", "Message not found", 404, "The sink holds no message with this id."
)


class MessageResponse(BaseModel):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    id: str
    mail_from: str = Field(description="SMTP envelope sender")
    rcpt_tos: list[str] = Field(description="SMTP envelope recipients, Bcc included")
    subject: str | None
    to: str | None = Field(description="The To header")
    from_: str | None = Field(alias="from", description="The From header")
    text: str | None = Field(description="The text/plain body, LF line ends")
    received_at: datetime

    @classmethod
    def of(cls, message: ReceivedMessage) -> MessageResponse:
        return cls(
            id=message.id,
            mail_from=message.mail_from,
            rcpt_tos=list(message.rcpt_tos),
            subject=message.subject,
            to=message.to,
            from_=message.from_,
            text=message.text,
            received_at=message.received_at,
        )


async def _mailbox(request: Request) -> Mailbox:
    return root_of(request, Sink).mailbox


MailboxDep = Annotated[Mailbox, Depends(_mailbox)]
_PROBLEM: dict[str, Any] = {"content": {PROBLEM_CONTENT_TYPE: {}}}

router = APIRouter(prefix="/messages", tags=["messages"])


@router.get("")
async def list_messages(
    page: PageQuery,
    mailbox: MailboxDep,
    to: Annotated[str | None, Query(description="Only mail delivered to this address")] = None,
) -> Page[MessageResponse]:
    """Caught messages, newest first."""
    messages, total = mailbox.newest_first(limit=page.limit, offset=page.offset, to=to)
    return Page(
        items=[MessageResponse.of(message) for message in messages],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{message_id}", responses={404: _PROBLEM})
async def get_message(message_id: str, mailbox: MailboxDep) -> MessageResponse:
    """One caught message."""
    try:
        return MessageResponse.of(mailbox.get(message_id))
    except MessageNotFound as exc:
        raise Problem(MESSAGE_NOT_FOUND, str(exc)) from exc


@router.delete("", status_code=204)
async def clear_messages(mailbox: MailboxDep) -> Response:
    """Forget every caught message."""
    mailbox.clear()
    return Response(status_code=204)
