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

__all__ = [
    "MESSAGE_NOT_FOUND",
    "SMTP_SINK_PROBLEMS",
    "DuplicateResponse",
    "MessageResponse",
    "router",
]

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
    message_id: str | None = Field(description="The Message-ID header")
    copies: int = Field(
        description="How many messages with this Message-ID the sink received: more than 1 "
        "means the sender delivered this mail again (0 without a Message-ID)"
    )

    @classmethod
    def of(cls, message: ReceivedMessage, copies: int) -> MessageResponse:
        return cls(
            id=message.id,
            mail_from=message.mail_from,
            rcpt_tos=list(message.rcpt_tos),
            subject=message.subject,
            to=message.to,
            from_=message.from_,
            text=message.text,
            received_at=message.received_at,
            message_id=message.message_id,
            copies=copies,
        )


class DuplicateResponse(BaseModel):
    message_id: str
    copies: int = Field(description="Messages received with this Message-ID (2 or more)")
    first_received_at: datetime
    last_received_at: datetime


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
    message_id: Annotated[
        str | None, Query(description="Only mail with this Message-ID header")
    ] = None,
) -> Page[MessageResponse]:
    """Caught messages, newest first."""
    messages, total = mailbox.newest_first(
        limit=page.limit, offset=page.offset, to=to, message_id=message_id
    )
    return Page(
        items=[MessageResponse.of(m, mailbox.copies_of(m.message_id)) for m in messages],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/duplicates")
async def list_duplicates(mailbox: MailboxDep) -> list[DuplicateResponse]:
    """Every Message-ID received more than once, most recent repeat first: mail a sender
    delivered again."""
    return [
        DuplicateResponse(
            message_id=seen.message_id,
            copies=seen.copies,
            first_received_at=seen.first_received_at,
            last_received_at=seen.last_received_at,
        )
        for seen in mailbox.duplicates()
    ]


@router.get("/{message_id}", responses={404: _PROBLEM})
async def get_message(message_id: str, mailbox: MailboxDep) -> MessageResponse:
    """One caught message."""
    try:
        message = mailbox.get(message_id)
        return MessageResponse.of(message, mailbox.copies_of(message.message_id))
    except MessageNotFound as exc:
        raise Problem(MESSAGE_NOT_FOUND, str(exc)) from exc


@router.delete("", status_code=204)
async def clear_messages(mailbox: MailboxDep) -> Response:
    """Forget every caught message."""
    mailbox.clear()
    return Response(status_code=204)
