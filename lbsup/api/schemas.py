"""What the API returns and accepts. Output fields are listed explicitly: nothing leaks
because a model grew a column."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import field_validator


class ErrorDetail(Schema):
    code: str
    message: str
    details: Any = None


class Error(Schema):
    error: ErrorDetail


class ContactBrief(Schema):
    id: int
    name: str
    email: str


class Attachment(Schema):
    filename: str
    content_type: str
    size: int
    skipped_reason: str


class Message(Schema):
    id: int
    direction: str
    author_kind: str
    author: str
    text: str
    quoted_text: str
    html: str
    thread_reason: str
    created_at: datetime
    sent_at: datetime | None
    attachments: list[Attachment]


class Ticket(Schema):
    number: int
    subject: str
    status: str
    priority: int
    channel: str
    category: str
    category_source: str
    category_confidence: float | None
    escalation_reason: str
    team: str | None
    assignee: str | None
    contact: ContactBrief
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    due_at: datetime | None


class TicketWithMessages(Ticket):
    messages: list[Message]


# Declared in the schema, so clients (and schemathesis) know what passes.
EMAIL = {"format": "email"}
# Everything str.splitlines() breaks on: a line break would end a mail header.
ONE_LINE = r"^[^\r\n\x00\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*$"
NOT_BLANK = r"\S"


class InboundMessage(Schema):
    from_email: str = Field(max_length=320, json_schema_extra=EMAIL)
    from_name: str = Field("", max_length=200, pattern=ONE_LINE)
    subject: str = Field("", max_length=300, pattern=ONE_LINE)
    text: str = Field(min_length=1, max_length=200_000, pattern=NOT_BLANK)

    @field_validator("from_email")
    @classmethod
    def _is_an_address(cls, value):
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("not a valid email address")
        return value


class NoteIn(Schema):
    text: str = Field(min_length=1, max_length=50_000, pattern=NOT_BLANK)


class TriageResult(Schema):
    message_id: int
    category: str
    confidence: float
    escalate: bool
    model_version: str
    playbook_version: int | None
    result: dict[str, Any]
    created_at: datetime


class Draft(Schema):
    id: int
    ticket: int
    message_id: int
    state: str
    category: str
    reply_id: str
    source: str
    proposed_text: str
    text: str
    missing: list[Any]
    checks: list[Any]
    alternatives: list[Any]
    decided_by: str | None
    decided_at: datetime | None
    reason: str
    created_at: datetime


class ApproveIn(Schema):
    text: str | None = Field(None, min_length=1, max_length=50_000, pattern=NOT_BLANK, description="the reply to send; default: the draft as it stands")
    override_reason: str = Field("", max_length=2000, description="needed to send despite a blocking guardrail finding")


class Company(Schema):
    id: int
    name: str
    domain: str
    created_at: datetime


class CompanyIn(Schema):
    name: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    domain: str = Field("", max_length=255)


class Contact(Schema):
    id: int
    name: str
    emails: list[str]
    phones: list[Any]
    vip: bool
    sensitive: bool
    flag_reason: str
    company: Company | None
    created_at: datetime


class ContactIn(Schema):
    name: str = Field("", max_length=200)
    emails: list[str] = Field(default_factory=list, max_length=20, json_schema_extra={"items": {"type": "string", "format": "email"}})
    phones: list[str] = Field(default_factory=list, max_length=20)
    company_id: int | None = Field(None, ge=1, le=2**63 - 1)

    @field_validator("emails")
    @classmethod
    def _addresses(cls, values):
        for value in values:
            try:
                validate_email(value)
            except DjangoValidationError:
                raise ValueError(f"{value!r} is not a valid email address")
        return values


class PlaybookVersion(Schema):
    number: int
    state: str
    content_hash: str
    note: str
    uploaded_by: str | None
    uploaded_at: datetime
    approved_by: str | None
    approved_at: datetime | None


class PlaybookVersionWithText(PlaybookVersion):
    text: str


class PlaybookIn(Schema):
    text: str = Field(min_length=1, max_length=1_000_000)
    note: str = Field("", max_length=2000)
