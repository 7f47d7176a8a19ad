"""What the API returns and accepts. Output fields are listed explicitly: nothing leaks
because a model grew a column."""

from datetime import date, datetime, timezone
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import AfterValidator, field_validator

from lbsup.crm.models import Lead as LeadRow
from lbsup.followups.models import FollowUp as FollowUpRow


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
    participants: list[str] = Field(description="everyone on From/To/Cc of the customers' mail; copied on replies")
    merged_into: int | None = Field(description="the ticket this one was merged into, if any")


class TicketWithMessages(Ticket):
    messages: list[Message]


# Declared in the schema, so clients (and schemathesis) know what passes.
EMAIL = {"format": "email"}
# Everything str.splitlines() breaks on: a line break would end a mail header.
ONE_LINE = r"^[^\r\n\x00\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*$"
# PostgreSQL stores no NUL character, in text or in JSON.
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
# Bounded, so converting to UTC can never overflow (year 1 at +05:00 would).
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc)


def _moment(value):
    if value.utcoffset() is None:
        raise ValueError("give the time with its time zone, e.g. 2025-03-10T14:30:00-08:00")
    if not EARLIEST <= value < LATEST:
        raise ValueError("give a time between the years 2000 and 2099")
    return value


# A point in time: with its time zone, between 2000 and 2099.
Moment = Annotated[datetime, AfterValidator(_moment)]


def _clamped(value):
    if value.utcoffset() is None:
        raise ValueError("give the time with its time zone, e.g. 2025-03-10T14:30:00-08:00")
    return min(max(value, EARLIEST), LATEST)


# A filter's bound: any time with a time zone; before 2000 or after 2099 is the same as those years.
Since = Annotated[datetime, AfterValidator(_clamped)]


def one_of(choices):
    """A model's TextChoices as an inline enum: named enums of different models (CrmNote.State,
    FollowUp.State) would share one name in the OpenAPI components and overwrite each other."""
    return Literal[tuple(choices.values)]


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
    override_reason: str = Field("", max_length=2000, pattern=NO_NUL, description="needed to send despite a blocking guardrail finding")
    cc: list[str] | None = Field(None, max_length=50, description="the ticket's participants to copy; default: all but the customer")


class Company(Schema):
    id: int
    name: str
    domain: str
    created_at: datetime


class CompanyIn(Schema):
    name: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    domain: str = Field("", max_length=255, pattern=NO_NUL)


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
    name: str = Field("", max_length=200, pattern=NO_NUL)
    emails: list[str] = Field(default_factory=list, max_length=20, json_schema_extra={"items": {"type": "string", "format": "email"}})
    phones: list[Annotated[str, Field(max_length=100, pattern=NO_NUL)]] = Field(default_factory=list, max_length=20)
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
    text: str = Field(min_length=1, max_length=1_000_000, pattern=NO_NUL)
    note: str = Field("", max_length=2000, pattern=NO_NUL)


class CrmNoteField(Schema):
    name: str
    proposed: str = Field(description="what the assistant proposed")
    value: str = Field(description="the value now (a person's edit, or the proposal)")
    source: str
    reviewed: bool


class CrmNote(Schema):
    id: int
    ticket: int
    contact: ContactBrief
    state: str
    fields: list[CrmNoteField]
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None


# Field names come from the workspace's playbook (its note format).
NoteFieldName = Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL)]
NoteValues = Annotated[dict[NoteFieldName, Annotated[str, Field(max_length=2000, pattern=NO_NUL)]],
                       Field(max_length=50, description="field name → value")]


class CrmNoteDraftIn(Schema):
    values: NoteValues = Field(default_factory=dict)


class CrmNoteApproveIn(Schema):
    values: NoteValues = Field(default_factory=dict)
    reviewed: list[NoteFieldName] = Field(default_factory=list, max_length=50,
                                          description="fields you reviewed now; every field must be reviewed to approve")


class Lead(Schema):
    id: int
    ticket: int
    contact: ContactBrief
    category: str
    stage: str
    next_stages: list[str]
    answers: dict[str, Any]
    missing: list[str]
    team: str | None
    owner: str | None
    next_step: str
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime


class LeadIn(Schema):
    stage: one_of(LeadRow.Stage) | None = Field(None, description="the next stage; see next_stages")
    reason: str = Field("", max_length=300, pattern=NO_NUL, description="needed when the lead is lost")
    owner: str | None = Field(None, min_length=1, max_length=150, pattern=NO_NUL,
                              description="username of a workspace member")
    next_step: str | None = Field(None, max_length=300, pattern=NO_NUL)
    due_at: Moment | None = None


class FollowUp(Schema):
    id: int
    ticket: int
    kind: str
    state: str
    due_at: datetime
    overdue: bool
    note: str
    created_by: str | None
    created_at: datetime
    fired_at: datetime | None
    outcome: str
    draft_id: int | None


class FollowUpIn(Schema):
    kind: one_of(FollowUpRow.Kind) = Field(description="snooze: hide the ticket until due_at; nudge: draft a nudge if the customer "
                                  "has not written by due_at")
    due_at: Moment = Field(description="with its time zone, in the future, within a year")
    note: str = Field("", max_length=300, pattern=NO_NUL)


class FollowUpCancelIn(Schema):
    reason: str = Field("", max_length=300, pattern=NO_NUL)


class ReportFigure(Schema):
    key: str
    label: str
    value: float | int | None
    unit: str
    display: str
    tickets: list[int] = Field(description="the numbers of the tickets behind the figure")
    url: str = Field(description="the page listing those tickets")


class ReportSection(Schema):
    key: str
    title: str
    available: bool
    note: str
    figures: list[ReportFigure]


class ReportDayCount(Schema):
    date: date
    count: int


class DigestState(Schema):
    state: str
    sent_at: datetime | None


class ReportDay(Schema):
    date: date
    tickets_opened: int
    digest: DigestState | None


class DailySummary(Schema):
    date: date
    timezone: str
    start: datetime
    end: datetime
    overview: str
    sections: list[ReportSection]
    volume_history: list[ReportDayCount]
    digest: DigestState | None
    url: str = Field(description="the daily summary page")
